"""The memristor Bayesian machine (Harabi et al., Nat. Electron. 2023): naive-Bayes
likelihoods stored as words in 2T2R RRAM, stochastic-computing inference, at three levels.

- :mod:`.naive_bayes`: fitting from data and the exact posterior (the reference);
- :mod:`.machine`: level 1, the bit-level stochastic-computing machine in numpy (vectorised
  over inferences) with its device error model;
- :mod:`.column`: level 2, the SPICE likelihood-memory column (2T2R cells, precharge sense
  amplifier) giving the bit-error rate and read energy vs supply;
- :mod:`.energy`: level 3, the energy per decision with its breakdown, and a
  microcontroller estimate.
"""
