"""Device-backed weight arrays: the state of every synapse is a device state, changed only by
programming pulses through the device's numpy model with its variability card.

- :class:`RRAMArray`: one RRAM per synapse, analog weight ``w`` in [0, 1] mapped linearly on
  the read conductance over a gap window; potentiation by SET pulses, depression by RESET
  pulses. The gap step of one pulse is tabulated per device on a gap grid by the pulse-level
  simulator of the gap model (:func:`~neurospice.compact_models.rram.variability.simulate_pulse_train`,
  each device with its own card drawn from the device's ``default_spread``), so the steps have
  the model's nonlinearity (large near the LRS, vanishing at the HRS) and SET/RESET asymmetry;
  a cycle-to-cycle spread multiplies each step by ``exp(c2c xi)`` (the model's ``sc2c``).
  A desired change becomes a number of pulses (:meth:`~RRAMArray.pulses_for`): from the
  nominal mean step per direction (open loop) or from each device's own step at its present
  state (device-aware), rounded to the nearest count or stochastically (unbiased: a change
  below one pulse is applied as one pulse with probability ``|dw|/step``).
- :class:`WeakResetPairs`: 2T2R differential pairs on the seed's weak-RESET statistics
  (:mod:`neurospice.compact_models.rram.variability`): ``ln(R/R0)`` of each device after ``n``
  pulses is the two-slope drift plus RTN and 1/f read noise; binary weight
  ``sign(R_BL - R_BLb)``; each imperfection can be switched off alone (ideal devices are the
  ensemble's mean device, linear drift, no noise).
- :class:`DWArray`: one domain-wall MTJ per synapse with ``nst`` pinning sites; a step pulse
  moves the wall one site (:func:`~neurospice.learning.energy.dw_step`) and it lands at
  ``site + sigma xi``; the read-out ``G(q)`` with the card's device-to-device spread.

Every class reports the pulses it applied and their energy (:mod:`.energy`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from neurospice.errors import ArgumentError

# --------------------------------------------------------------------------- RRAM, analog

#: Programming pulses of the analog RRAM synapse (amplitude [V], width [s]).
RRAM_SET_PULSE = (0.5, 10e-9)
RRAM_RESET_PULSE = (-0.5, 10e-9)
#: The gap window the weight [0, 1] spans (high-G end, low-G end) [m].
RRAM_WINDOW = (0.25e-9, 0.95e-9)


class RRAMArray:
    """``shape`` RRAM synapses with weights in [0, 1] (see the module docstring).

    ``d2d``: each device's card drawn from the RRAM ``default_spread`` (False: the nominal
    card for all); ``c2c``: the lognormal cycle-to-cycle spread of each pulse's step (the
    model's ``sc2c``; the card's default is 0, so a value here is an assumption to calibrate);
    ``max_pulses``: the most pulses one update may apply."""

    def __init__(self, shape, seed, *, d2d: bool = True, c2c: float = 0.0,
                 set_pulse=RRAM_SET_PULSE, reset_pulse=RRAM_RESET_PULSE,
                 window=RRAM_WINDOW, n_grid: int = 48, max_pulses: int = 8):
        from neurospice.compact_models.randomness import draw_params
        from neurospice.compact_models.rram import DEVICE, read_resistance
        from neurospice.compact_models.rram.variability import simulate_pulse_train

        self.shape = tuple(shape)
        n = int(np.prod(self.shape))
        if c2c < 0 or max_pulses < 1:
            raise ArgumentError("c2c must be >= 0 and max_pulses >= 1")
        self.rng = np.random.default_rng(seed)
        self.c2c, self.max_pulses = float(c2c), int(max_pulses)
        self.nominal = DEVICE.defaults()
        if d2d:
            drawn = draw_params(DEVICE, n, self.rng, DEVICE.default_spread)
            self.params = {k: np.array([d[k] for d in drawn]) for k in DEVICE.default_spread}
        else:
            self.params = {}
        self.i0 = self.params.get("i0", np.full(n, self.nominal["i0"]))
        g_hi_g, g_lo_g = window
        self.window = (float(g_hi_g), float(g_lo_g))
        self.g_of = lambda g: 1.0 / read_resistance(g, 0.1)            # nominal G(g)
        self.G_hi, self.G_lo = float(self.g_of(g_hi_g)), float(self.g_of(g_lo_g))
        margin = 0.05e-9
        self.grid = np.linspace(g_hi_g - margin, g_lo_g + margin, n_grid)
        self.h = self.grid[1] - self.grid[0]
        self.tables = {name: self._tabulate(n, pulse, simulate_pulse_train)
                       for name, pulse in (("set", set_pulse), ("reset", reset_pulse))}
        # the nominal mean step in w per pulse, per direction (open-loop programming)
        self.unit = {d: self._nominal_unit(d) for d in ("set", "reset")}
        self.g = np.full(n, g_lo_g)
        self.pulses = 0
        self.energy = 0.0

    def _tabulate(self, n, pulse, simulate):
        """Gap step and energy of one pulse for each device on the gap grid, (n, grid) each.
        Where the card varies one parameter (the RRAM card varies ``i0``), the steps are
        simulated on 9 values of it spanning the drawn devices and interpolated linearly per
        device (the step is smooth in the parameter); otherwise every device is simulated."""
        amp, width = pulse
        n_grid = self.grid.size
        if len(self.params) > 1:
            cards = {k: np.repeat(v, n_grid) for k, v in self.params.items()}
            count = n
        elif self.params:
            (name, values), = self.params.items()
            axis = np.linspace(values.min(), values.max(), 9)
            cards = {name: np.repeat(axis, n_grid)}
            count = axis.size
        else:
            cards, count = {}, 1
        res = simulate(np.full(1, amp), width, n_devices=count * n_grid, params=cards,
                       gap0=np.tile(self.grid, count), steps_flat=20, steps_edge=4)
        dg = (res.gap[1] - res.gap[0]).reshape(count, n_grid)
        en = res.energy[0].reshape(count, n_grid)
        if count == n:
            return dg, en
        if count == 1:
            return np.repeat(dg, n, 0), np.repeat(en, n, 0)
        pos = np.clip((values - axis[0]) / (axis[1] - axis[0]), 0, count - 1.000001)
        j = pos.astype(int)
        f = (pos - j)[:, None]
        return dg[j] * (1 - f) + dg[j + 1] * f, en[j] * (1 - f) + en[j + 1] * f

    def _nominal_unit(self, direction: str) -> float:
        """Mean |dw| per pulse of the nominal device over the window (pulses to cross it)."""
        dg = np.mean(self.tables[direction][0], axis=0)
        g = self.window[1] if direction == "set" else self.window[0]
        count = 0
        while count < 100000:
            step = np.interp(g, self.grid, dg)
            g += step
            count += 1
            if (direction == "set" and g <= self.window[0]) or \
               (direction == "reset" and g >= self.window[1]):
                return 1.0 / count
        raise ArgumentError(f"{direction} pulses do not cross the weight window")

    @property
    def size(self) -> int:
        return self.g.size

    def conductance(self) -> np.ndarray:
        """Read conductance at 0.1 V of every device [S], each with its own card."""
        return (self.g_of(self.g) * self.i0 / self.nominal["i0"]).reshape(self.shape)

    def weights(self) -> np.ndarray:
        """The weights the array computes with: ``(G - G_lo)/(G_hi - G_lo)``."""
        return (self.conductance() - self.G_lo) / (self.G_hi - self.G_lo)

    def set_weights(self, w) -> None:
        """Place every device at the gap whose *nominal* conductance encodes ``w`` (the
        devices' own cards make the read differ)."""
        from neurospice.compact_models.rram import gap_for_resistance

        w = np.clip(np.asarray(w, dtype=float).reshape(-1), 0.0, 1.0)
        self.g = gap_for_resistance(1.0 / (self.G_lo + w * (self.G_hi - self.G_lo)), 0.1)

    def cell_params(self, flat_index) -> list[dict]:
        """Device parameter dicts (state ``gi`` and the drawn card) of the given devices,
        for a SPICE netlist of the same cells."""
        return [{"gi": float(self.g[k]), **{p: float(v[k]) for p, v in self.params.items()}}
                for k in np.asarray(flat_index).reshape(-1)]

    def step_now(self, flat_index, direction: str) -> np.ndarray:
        """The weight change one ``direction`` (``"set"``/``"reset"``) pulse makes on each
        device ``flat_index`` at its present state, from that device's own tabulated step and
        card (its nonlinear, asymmetric response; no cycle-to-cycle draw)."""
        k = np.asarray(flat_index).reshape(-1)
        g = self.g[k]
        dg = self._interp(self.tables[direction][0], k, g)
        g1 = np.clip(g + dg, self.grid[0], self.grid[-1])
        scale = self.i0[k] / self.nominal["i0"] / (self.G_hi - self.G_lo)
        return (self.g_of(g1) - self.g_of(g)) * scale

    def _interp(self, table, k, g) -> np.ndarray:
        pos = np.clip((g - self.grid[0]) / self.h, 0.0, self.grid.size - 1.000001)
        j = pos.astype(int)
        f = pos - j
        return table[k, j] * (1 - f) + table[k, j + 1] * f

    def pulses_for(self, dw, flat_index=None, rng=None) -> np.ndarray:
        """Signed pulse counts an update ``dw`` asks for (SET > 0, RESET < 0), capped at
        ``max_pulses``. The step of one pulse is the nominal mean :attr:`unit` (open loop) or,
        with ``flat_index``, each device's own step at its present state (:meth:`step_now`:
        device-aware programming). ``rng``: stochastic rounding -- ``dw/step = n + f`` applies
        ``n + 1`` pulses with probability ``f``, so an update below one pulse is applied with
        probability ``|dw|/step`` and the expected change is ``dw`` (unbiased); without it, to
        the nearest count."""
        dw = np.asarray(dw, dtype=float)
        if flat_index is None:
            step = np.where(dw > 0, self.unit["set"], self.unit["reset"])
        else:
            k = np.asarray(flat_index).reshape(dw.shape)
            step = np.where(dw > 0, self.step_now(k, "set"), -self.step_now(k, "reset"))
        x = np.abs(dw) / np.maximum(step, 1e-9)
        if rng is None:
            n = np.rint(x)
        else:
            n = np.floor(x)
            n += rng.random(x.shape) < x - n
        return (np.sign(dw) * np.minimum(n, self.max_pulses)).astype(int)

    def apply(self, flat_index, pulses) -> int:
        """Apply signed pulse counts to the devices ``flat_index``; returns the number of
        devices that received at least one pulse."""
        idx = np.asarray(flat_index).reshape(-1)
        n = np.asarray(pulses).reshape(-1)
        active = n != 0
        idx, n = idx[active], n[active]
        if not idx.size:
            return 0
        for p in range(int(np.abs(n).max())):
            m = np.abs(n) > p
            k = idx[m]
            g = self.g[k]
            up = n[m] > 0
            dg = np.empty(k.size)
            en = np.empty(k.size)
            for name, sel in (("set", up), ("reset", ~up)):
                tab, etab = self.tables[name]
                dg[sel] = self._interp(tab, k[sel], g[sel])
                en[sel] = self._interp(etab, k[sel], g[sel])
            if self.c2c:
                dg *= np.exp(self.c2c * self.rng.standard_normal(k.size))
            self.g[k] = np.clip(g + dg, self.grid[0], self.grid[-1])
            self.energy += float(en.sum())
            self.pulses += int(k.size)
        return int(idx.size)


# --------------------------------------------------------------------------- weak-RESET pairs

IMPERFECTIONS = ("d2d", "rtn", "flicker", "nonlinearity")
"""The weak-RESET imperfections :class:`WeakResetPairs` can switch on one by one."""


@lru_cache(maxsize=1)
def mean_seed_device() -> dict[str, float]:
    """The ensemble's mean device (the mean of each seed distribution, from 200 000 draws of
    :func:`~neurospice.compact_models.rram.variability.draw_seed_devices` with seed 0)."""
    from neurospice.compact_models.rram.variability import draw_seed_devices

    d = draw_seed_devices(200000, 0)
    return {k: float(np.mean(v)) for k, v in d.items()}


class WeakResetPairs:
    """``shape`` 2T2R pairs (BL, BLb) of weak-RESET RRAM (see the module docstring).

    ``imperfections``: a subset of :data:`IMPERFECTIONS` (the default: all). Without ``d2d``
    every device is :func:`mean_seed_device` (and, with ``rtn``, the mean RTN amplitude
    scale); without ``nonlinearity`` the drift stays on its first slope ``m1`` (no knee);
    ``rtn`` and ``flicker`` are read noise in ``ln R``, advanced one step each time a device
    is pulsed (the seed's per-pulse noise processes)."""

    def __init__(self, shape, seed, imperfections=IMPERFECTIONS):
        from neurospice.compact_models.rram import variability as var

        bad = set(imperfections) - set(IMPERFECTIONS)
        if bad:
            raise ArgumentError(f"unknown imperfections {sorted(bad)}; known: {IMPERFECTIONS}")
        self.var = var
        self.on = frozenset(imperfections)
        self.shape = tuple(shape)
        n = 2 * int(np.prod(self.shape))
        self.rng = np.random.default_rng(seed)
        if "d2d" in self.on:
            self.dev = var.draw_seed_devices(n, self.rng)
        else:
            mean = mean_seed_device()
            self.dev = {k: np.full(n, v) for k, v in mean.items()}
        self.m1_nominal = mean_seed_device()["m1"]
        self.count = np.zeros(n)
        self.rtn_state = np.zeros(n, dtype=np.int8)
        self.rtn_amp = np.zeros(n)
        self.taps = var.fractional_coefficients()
        self.white = self.rng.standard_normal((var.FRAC_TAPS, n))
        self.head = np.zeros(n, dtype=int)
        self.flicker = self._flicker(np.arange(n))
        self.pulses = 0

    @property
    def n_pairs(self) -> int:
        return self.count.size // 2

    def log_r(self) -> np.ndarray:
        """``ln R`` of every device (BL devices first, then BLb), as read now."""
        d = self.dev
        n = self.count
        if "nonlinearity" in self.on:
            drift = np.where(n < d["n_star"], d["m1"] * n + d["c1"],
                             d["m2"] * n + d["n_star"] * (d["m1"] - d["m2"]) + d["c1"])
        else:
            drift = d["m1"] * n + d["c1"]
        w = np.log(d["r0"]) + drift
        if "rtn" in self.on:
            w = w + self.rtn_state * self.rtn_amp
        if "flicker" in self.on:
            w = w + self.flicker
        return w

    def _flicker(self, k) -> np.ndarray:
        """The 1/f read noise of devices ``k``: the fractionally integrated white noise of
        their last :data:`~neurospice.compact_models.rram.variability.FRAC_TAPS` pulses."""
        lag = (self.head[None, k] - np.arange(self.taps.size)[:, None]) % self.taps.size
        return self.var.FRAC_GAIN * np.sum(self.taps[:, None] * self.white[lag, k[None, :]], 0)

    def hidden(self) -> np.ndarray:
        """``ln R_BL - ln R_BLb`` of each pair (the analog quantity the sign reads)."""
        w = self.log_r()
        return (w[: self.n_pairs] - w[self.n_pairs:]).reshape(self.shape)

    def weights(self) -> np.ndarray:
        """Binary weights ``sign(R_BL - R_BLb)`` (+1 where equal)."""
        return np.where(self.hidden() >= 0, 1.0, -1.0)

    def resistances(self) -> tuple[np.ndarray, np.ndarray]:
        """(R_BL, R_BLb) [Ohm], each of ``shape``, as read now."""
        r = np.exp(self.log_r())
        return r[: self.n_pairs].reshape(self.shape), r[self.n_pairs:].reshape(self.shape)

    def pulse(self, pulses) -> int:
        """Apply weak-RESET pulses: ``pulses`` (``shape``, integers) > 0 on BL (towards +1),
        < 0 on BLb; each pulse advances the pulsed device's noise. Returns the pulse count."""
        p = np.asarray(pulses).reshape(-1).astype(int)
        total = 0
        for step in range(int(np.abs(p).max()) if p.size else 0):
            dev = np.concatenate([p > step, -p > step])
            self._advance(dev)
            total += int(dev.sum())
        self.pulses += total
        return total

    def _advance(self, mask) -> None:
        self.count[mask] += 1
        k = np.flatnonzero(mask)
        var = self.var
        if "rtn" in self.on:
            u = self.rng.random(k.size)
            s = self.rtn_state[k]
            up = (s == 0) & (u < var.P_LOW_HIGH)
            down = (s == 1) & (u < var.P_HIGH_LOW)
            amp = self.rng.random(k.size) * self.dev["rtn_a"][k]
            self.rtn_amp[k] = np.where(up, amp, self.rtn_amp[k])
            self.rtn_state[k] = np.where(up, 1, np.where(down, 0, s))
        if "flicker" in self.on:
            self.head[k] = (self.head[k] + 1) % self.taps.size
            self.white[self.head[k], k] = self.rng.standard_normal(k.size)
            self.flicker[k] = self._flicker(k)


# --------------------------------------------------------------------------- domain wall

class DWArray:
    """``shape`` domain-wall synapses with ``nst`` sites (see the module docstring). The
    weight of a device is ``2 (G - G_ap)/(G_p - G_ap) - 1`` with the nominal G_ap, G_p: the
    nominal sites give the levels ``(2k + 1)/nst - 1``. ``d2d``: gp, gap drawn from the card's
    ``default_spread``; ``noisy``: the landing offset ``sigma xi`` of every step."""

    def __init__(self, shape, nst: int, seed, *, d2d: bool = True, noisy: bool = True,
                 current: float | None = None):
        from neurospice.compact_models import dwmtj
        from neurospice.compact_models.randomness import draw_params

        from neurospice.learning.energy import DW_CURRENT, dw_step_energy

        if int(nst) != nst or nst < 2:
            raise ArgumentError(f"nst must be an integer >= 2, got {nst!r}")
        self.nst = int(nst)
        self.shape = tuple(shape)
        n = int(np.prod(self.shape))
        self.rng = np.random.default_rng(seed)
        self.card = dwmtj.DEVICE.params({"nst": float(self.nst)})
        self.sites = dwmtj.sites(self.card)
        if d2d:
            drawn = draw_params(dwmtj.DEVICE, n, self.rng, dwmtj.DEVICE.default_spread)
            self.params = {k: np.array([d[k] for d in drawn])
                           for k in dwmtj.DEVICE.default_spread}
        else:
            self.params = {}
        self.gp = self.params.get("gp", np.full(n, self.card["gp"]))
        self.gap = self.params.get("gap", np.full(n, self.card["gap"]))
        self.sigma = self.card["sigma"] if noisy else 0.0
        self.step_energy = dw_step_energy(self.nst, current or DW_CURRENT)
        self.level = np.zeros(n, dtype=int)
        self.offset = np.zeros(n)
        self.pulses = 0
        self.energy = 0.0

    @property
    def levels(self) -> np.ndarray:
        """The nominal weight levels, lowest first."""
        return (2 * np.arange(self.nst) + 1) / self.nst - 1.0

    def position(self) -> np.ndarray:
        return self.sites[self.level] + self.offset

    def conductance(self) -> np.ndarray:
        """Read conductance of every device [S] (``shape``)."""
        q = self.position()
        return (self.gap + (self.gp - self.gap) * q / self.card["ltrack"]).reshape(self.shape)

    def weights(self) -> np.ndarray:
        ga, gp = self.card["gap"], self.card["gp"]
        return 2.0 * (self.conductance() - ga) / (gp - ga) - 1.0

    def step(self, direction) -> int:
        """One step pulse towards +1 (``direction`` > 0) or -1 (< 0) on every device where
        ``direction`` (``shape``) is nonzero and the wall is not already at the end site;
        returns the number of pulses."""
        d = np.sign(np.asarray(direction, dtype=float).reshape(-1)).astype(int)
        new = self.level + d
        move = (d != 0) & (new >= 0) & (new < self.nst)
        k = np.flatnonzero(move)
        self.level[k] = new[k]
        self.offset[k] = self.sigma * self.rng.standard_normal(k.size)
        self.pulses += k.size
        self.energy += k.size * self.step_energy
        return int(k.size)

    def program_levels(self, levels) -> int:
        """Program level indices (``shape``) from site 0 with step pulses (ex-situ transfer);
        returns the pulses spent."""
        target = np.asarray(levels, dtype=int).reshape(-1)
        if np.any(target < 0) or np.any(target >= self.nst):
            raise ArgumentError(f"levels must lie in 0 .. {self.nst - 1}")
        self.level[:] = 0
        total = 0
        for _ in range(self.nst - 1):
            total += self.step((target > self.level).reshape(self.shape))
        return total

    def cell_params(self, flat_index) -> list[dict]:
        """Device parameter dicts (``q0`` and the drawn card, with ``nst``) of the given
        devices, for a SPICE netlist of the same cells."""
        q = self.position()
        return [{"q0": float(q[k]), "nst": float(self.nst),
                 **{p: float(v[k]) for p, v in self.params.items()}}
                for k in np.asarray(flat_index).reshape(-1)]
