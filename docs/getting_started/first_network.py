"""A first network: an RF-coupled MTJ network (spin-diode synapses, STNO neurons) learns XOR.

The two inputs are the powers of two tones (4 and 6 GHz); the network 2 -> 2 -> 1 is trained
with Adam on its numpy envelope model, then one test input is run as a full RF transient in
ngspice (spin-diode and STNO device instances).
"""

from neurospice.circuits.rfnet import rf_netlist
from neurospice.circuits.rfnet.data import synthetic
from neurospice.circuits.rfnet.network import RFNetwork
from neurospice.circuits.rfnet.train import fit

ds = synthetic("xor", seed=0)
net, _, tried = fit(lambda s: RFNetwork.build([2, 2, 1], ds.freq_hz, osc_freq_hz=[[4e9, 6e9]],
                                              seed=s, init_shift=1.0, name="xor"),
                    ds.x_train, ds.y_train, restarts=10, target=0.99, epochs=100, batch=32,
                    lr_shift=0.05, lr_bias_v=2e-4)
print(f"devices: {net.device_count}; test accuracy (envelope model) "
      f"{100 * net.accuracy(ds.x_test, ds.y_test):.1f} % after {tried} start(s)")
