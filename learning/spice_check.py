"""The SPICE check of a trained network: a slice of its device array (by default 8 inputs x
4 outputs) built as a crossbar of the same devices in their trained states
(:class:`neurospice.circuits.crossbar.Crossbar`, 1R cells, virtual-ground sense), simulated
at the operating point in ngspice or VACASK, against the column currents the numpy array
computes (``v_in @ G`` with the array's own conductances at the read voltage).

Slices: :func:`rram_slice` (:class:`~.synapses.RRAMArray`, the VDSP synapses),
:func:`dw_slice` (:class:`~.synapses.DWArray`), :func:`weak_reset_slice`
(:class:`~.synapses.WeakResetPairs`: each pair's BL and BLb as two columns, each device at the
gap of the physical RRAM model whose read resistance is the statistical model's ``R``).
Inputs are 0 or the read voltage, where a chord conductance is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurospice.errors import ArgumentError
from neurospice.learning.energy import V_READ


@dataclass
class SliceCheck:
    numpy: np.ndarray
    spice: np.ndarray
    simulator: str

    @property
    def max_relative_error(self) -> float:
        """max |spice - numpy| / max |numpy| over the columns."""
        return float(np.max(np.abs(self.spice - self.numpy)) / np.max(np.abs(self.numpy)))


def check(device: str, cells, conductances, v_in, simulator: str = "ngspice") -> SliceCheck:
    """Simulate the 1R crossbar of ``cells`` (rows x columns parameter dicts of ``device``)
    at inputs ``v_in`` and compare with ``v_in @ conductances``."""
    from neurospice.circuits.crossbar import Crossbar

    g = np.asarray(conductances, dtype=float)
    v = np.asarray(v_in, dtype=float)
    if g.ndim != 2 or v.shape != (g.shape[0],):
        raise ArgumentError(f"need rows x cols conductances and one input per row, got "
                            f"{g.shape} and {v.shape}")
    xb = Crossbar(device, g.shape[0], g.shape[1], cells)
    return SliceCheck(v @ g, xb.read(v, simulator), simulator)


def _inputs(rows, seed):
    v = V_READ * (np.random.default_rng(seed).random(rows) < 0.6)
    v[0] = V_READ
    return v


def rram_slice(array, rows: int = 8, cols: int = 4, simulator: str = "ngspice", seed=0):
    """Check a rows x cols corner of an :class:`~.synapses.RRAMArray`."""
    idx = np.arange(rows)[:, None] * array.shape[1] + np.arange(cols)[None, :]
    cells = [array.cell_params(r) for r in idx]
    g = array.conductance().reshape(-1)[idx]
    return check("rram", cells, g, _inputs(rows, seed), simulator)


def dw_slice(array, rows: int = 8, cols: int = 4, simulator: str = "ngspice", seed=0):
    """Check a rows x cols corner of a :class:`~.synapses.DWArray`."""
    idx = np.arange(rows)[:, None] * array.shape[1] + np.arange(cols)[None, :]
    cells = [array.cell_params(r) for r in idx]
    g = array.conductance().reshape(-1)[idx]
    return check("dwmtj", cells, g, _inputs(rows, seed), simulator)


def weak_reset_slice(pairs, rows: int = 8, cols: int = 4, simulator: str = "ngspice", seed=0):
    """Check a rows x cols corner of :class:`~.synapses.WeakResetPairs` (2 cols devices)."""
    from neurospice.compact_models.rram import gap_for_resistance

    r_bl, r_blb = pairs.resistances()
    r = np.stack([r_bl[:rows, :cols], r_blb[:rows, :cols]], axis=2).reshape(rows, 2 * cols)
    gaps = gap_for_resistance(r, V_READ)
    cells = [[{"gi": float(x)} for x in row] for row in gaps]
    return check("rram", cells, 1.0 / r, _inputs(rows, seed), simulator)
