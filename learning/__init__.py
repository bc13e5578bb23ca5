"""Device-aware learning on neurospice's device models (numpy, vectorised, seeded).

Networks whose weights live in device arrays programmed pulse by pulse through the devices'
own numpy models and variability cards, so that "what does this device's variability cost my
network?" is answered in one run:

- :mod:`.synapses`: device-backed weight arrays -- RRAM (bidirectional SET/RESET steps
  tabulated on the gap model, per device), weak-RESET 2T2R pairs (the seed's statistical
  model: device-to-device, RTN, 1/f, two-slope drift), domain-wall synapses (2/3/5 sites);
- :mod:`.neurons`: vectorised LIF layers (input neurons with a membrane reset to -1, output
  neurons with adaptive thresholds and winner-take-all);
- :mod:`.vdsp`, :mod:`.bnn`, :mod:`.metaplastic`, :mod:`.binary_ep`, :mod:`.dw_quantised`:
  the training procedures; :mod:`.energy`: programming and read energy from the device
  models; :mod:`.data`: the digits task and MNIST files; :mod:`.spice_check`: a slice of a
  trained array simulated in ngspice/VACASK against the numpy outputs.

Nothing is imported at package import time beyond numpy.
"""
