"""Circuit generators built from the compact models: NbOx neuron presets
(:mod:`.neurons`), crossbar arrays (:mod:`.crossbar`), RF-coupled MTJ networks
(:mod:`.rfnet`) and the memristor Bayesian machine (:mod:`.bayesian`). Each returns a :class:`neurospice.netlists.Circuit`; nothing is imported or
computed at import time."""
