"""Circuit generators built from the compact models: NbOx neuron presets
(:mod:`.neurons`), crossbar arrays (:mod:`.crossbar`) and RF-coupled MTJ networks
(:mod:`.rfnet`). Each returns a :class:`neurospice.netlists.Circuit`; nothing is imported or
computed at import time."""
