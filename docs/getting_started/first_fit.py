"""A first fit: recover an MTJ card from I-V sweeps of the parallel and antiparallel states.

The "measurement" is written here as an instrument-style CSV from a known card with 0.3 %
noise (current in mA, a sweep column); the ``mtj-rv`` recipe loads it (SI inside) and
``fit_mtj_rv`` fits rp, tmr0 and vh with lmfit on the numpy rendering.
"""

import tempfile
from pathlib import Path

import numpy as np

from neurospice.calibration import fit_mtj_rv, get_recipe
from neurospice.compact_models.devices import get_device

mtj = get_device("mtj")
true = {"rp": 2.5e3, "tmr0": 1.2, "vh": 0.35}
rng = np.random.default_rng(0)
v = np.linspace(-0.5, 0.5, 101)
rows = ["Voltage (V),Current (mA),Sweep"]
for sweep, m0 in ((1, 1.0), (2, -1.0)):
    i = mtj.numpy.dc_current({"p": v}, {**true, "m0": m0})["p,n"]
    i = i * (1 + 0.003 * rng.standard_normal(v.size))
    rows += [f"{a:.6g},{1e3 * b:.9g},{sweep}" for a, b in zip(v, i)]

with tempfile.TemporaryDirectory() as tmp:
    data = Path(tmp) / "mtj_iv.csv"
    data.write_text("\n".join(rows) + "\n")
    sweeps = get_recipe("mtj-rv").load(data)

cal = fit_mtj_rv(sweeps, seed=0)
for name, value in true.items():
    print(f"{name:5s} true {value:<8g} fitted {cal.params[name]:.5g} "
          f"+- {cal.stderr[name]:.2g}")
