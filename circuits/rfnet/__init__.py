"""RF-coupled MTJ neural networks (docs/physics/rf_networks.md): spin-diode resonator chains as
synapses, spin-torque nano-oscillators as neurons, connected by RF tones.

- :mod:`.network`: the description (:class:`RFNetwork`, JSON) and the numpy envelope model
  with its analytic gradients;
- :mod:`.train`: Adam on the envelope model;
- :mod:`.data`: spectra data sets (HDF5/CSV) and synthetic RF-encoded 2-D tasks;
- :mod:`.envelope_netlist`: the whole network as an operating-point netlist, one behavioral
  element per resonator and one neuron per oscillator (tens of thousands of devices);
- :mod:`.rf_netlist`: the full RF transient netlist of small networks (spin-diode and STNO
  device instances, amplifier/combiner stages, low-pass read-out) and the power estimate;
- :mod:`.devices`: the learned values mapped to device parameters;
- :mod:`.cli`: ``neurospice rfnet train|eval|export``.

Nothing here imports a simulator or matplotlib at import time.
"""

__all__ = ["RFNetwork", "geometric_plan", "linear_plan"]


def __getattr__(name):
    """The names above, imported from :mod:`.network` on first use (the command line's
    ``--help`` imports this package without numpy)."""
    if name in __all__:
        from neurospice.circuits.rfnet import network

        return getattr(network, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
