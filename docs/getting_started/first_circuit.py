"""A first circuit: an MTJ in series with a resistor, simulated by ngspice and by VACASK.

The junction's Verilog-A (compiled by openvaf-r, cached) is placed with ``add_to``; the
same Circuit is written for each simulator, and the results carry the same names.
"""

from neurospice.compact_models.devices import get_device
from neurospice.netlists import Circuit
from neurospice.simulators import get_simulator

mtj = get_device("mtj")
c = Circuit("mtj_divider")
c.vsource("in", "a", 0, dc=0.1)              # SI floats: volt, ohm, second ...
c.resistor("s", "a", "b", 1e3)
mtj.add_to(c, "1", ["b", "0", "0"], params={"m0": -1.0})   # antiparallel; noise input at 0
c.op()

for name in ("ngspice", "vacask"):
    op = get_simulator(name).run(c).op
    vb = float(op["v(b)"].ravel()[0])
    print(f"{name:8s} v(b) = {vb:.6f} V, junction resistance {1e3 * vb / (0.1 - vb):.1f} ohm")

# the closed form at that bias: R_AP = rp (1 + TMR(V)), TMR(V) = tmr0 / (1 + V^2 / vh^2)
p = mtj.params({"m0": -1.0})
print(f"closed form: R_AP({vb:.4f} V) = "
      f"{p['rp'] * (1 + p['tmr0'] / (1 + vb**2 / p['vh']**2)):.1f} ohm")
