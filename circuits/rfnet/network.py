"""RF-coupled MTJ network: its description and the envelope model (docs/physics/rf_networks.md).

A network is a stack of layers. Layer ``l`` receives ``n_in`` RF tones (frequencies
``input_freq_hz``, powers P_i in W) and holds ``n_chains`` chains of spin-diode resonators,
one resonator per input tone in every chain, wired in series with alternating polarity
s_k = (-1)^(k+1) (k = 1, 2, ...). Resonator k of chain j, tuned at f_jk, rectifies every tone:

    v_ijk = s_k K_SD P_i L(f_i, f_jk),   L(f, f_r) = 2 h (f - f_r) / (h^2 + (f - f_r)^2),  h = alpha f_r

and the chain's DC voltage is the signed sum over its resonators and the tones (the
multiply-and-accumulate) plus a learned chain bias b_j: V_j = sum_i P_i W_ji + b_j.
A hidden layer's chain feeds a read-out amplifier of voltage gain A_j (``v_gain``, learned per
chain within [v_gain_min, v_gain_max]) and a voltage-to-current stage, I_j = g_m (A_j V_j + V_b),
clipped to [0, i_clamp] (a transistor source with compliance), that biases a spin-torque
nano-oscillator emitting at its own frequency the power

    P_j = G (1 + e_j) p(I_j) R I_j^2,   p = (xi - 1)/(xi + Q) for xi = I/I_th > 1, else 0

(G: the amplifier's power gain including the TMR and shape factors, e_j the oscillator's
power spread). Those powers are the tones of the next layer. The last layer has no
oscillators: its chain voltages are the class scores.

**Gain.** From threshold to compliance the oscillator takes a chain-voltage step of
(i_clamp - I_th) / (g_m A_j): 8.9 mV at A_j = 1, about all a chain spans over its inputs
(K_SD p per input, 8.8 mV for 1 uW). With a fixed gain a hidden unit ramps across the whole
input range and cannot switch sharply inside it; the learned gain lets each neuron choose its
sharpness (docs/physics/rf_networks.md). Files without ``v_gain`` load with A_j = 1.

**Start.** A neuron below threshold for every input has no gradient and stays dead;
:meth:`RFNetwork.centre` (used by :func:`.train.fit`) sets the hidden gains and biases from
the training inputs so that every neuron starts inside its window, and the output bias so
that the scores start centred. :meth:`RFNetwork.imitate` starts instead from a trained
conventional model of the same shape (logistic regression, a tanh MLP), mapped onto the
resonators' shifts (:meth:`RFNetwork.set_weights`), the neurons' gains and the biases.

**Band.** ``band`` limits which tones a resonator rectifies: resonator k sees tones k - band
... k + band (``None``: all). The full sum costs n_in^2 terms per chain, which a netlist of
the drone network (256 x 128) cannot carry; the band is part of the model, so the numpy
envelope, the training and every netlist apply the same one and agree to rounding. The tail
it drops is stated by :meth:`RFNetwork.truncation_error`.

**Non-idealities** (the seed's, docs/physics/rf_networks.md): a fixed, seeded realisation of Gaussian relative
spreads of the input frequencies, the resonators' as-fabricated resonance frequencies and the
oscillators' powers (``spread``, e.g. 0.01). A trained network carries its realisation: the
learned shifts act on the as-fabricated frequencies.

**Trim.** With a spread of 1 % (one linewidth, alpha = 0.01) the as-fabricated resonances start
about a linewidth from their tones, off the Lorentzian's steep zero crossing; training from
there generalises worse (drone task: 98.0 % test against 99.7 % ideal -- the ideal network
started from shifts of 1 linewidth does as badly, 97.7 %, so it is the starting point, not
lost information). ``build(..., trim=True)`` starts the shifts at -e_jk / alpha (plus the usual
small random part): every resonator begins at its design frequency, as after a one-off
calibration of each device, and training then acts on the as-fabricated frequencies as
before. As training knows the realisation and Adam is invariant to a translation of the
shifts, this removes the resonance-frequency spread's effect on training altogether (it then
only moves the stored shift values); the input/oscillator frequency and oscillator power
spreads are untouched (drone, trimmed: 99.33 %).

Learned values: per resonator a frequency shift, stored in units of its own linewidth
(``shift_lw``, so f_jk = f0_jk (1 + e_jk) + shift_lw_jk alpha f0_jk), per chain a bias
voltage (V) and per hidden chain its voltage gain ``v_gain``. Everything is SI; JSON
round-trips exactly (floats written with ``repr``).

**Network files are untrusted.** :meth:`RFNetwork.load` / :meth:`~RFNetwork.from_json` /
:meth:`~RFNetwork.from_dict` check the whole document against the schema before anything is
built: only the known keys, the right types (numbers are JSON numbers, never booleans or
strings, and finite: ``NaN``/``Infinity`` literals and numbers too large for a float are
refused), array shapes that agree, sizes within :data:`LIMITS`, duplicate keys refused, the
name through the netlist text gate (it becomes a netlist title). Every failure is a
NetlistError naming the file and the JSON path (``network.json: layers[1].shift_lw[3][0]:
not a finite number``); deeply nested or huge documents are refused, never a RecursionError,
OverflowError or MemoryError.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurospice.errors import NetlistError
from neurospice.fileio import read_text
from neurospice.netlists.values import check_text

FORMAT = "neurospice.rfnet/1"
#: caps on what a network file may hold
LIMITS = {"file_bytes": 512 * 2 ** 20, "layers": 64, "tones": 65_536, "chains": 65_536,
          "resonators": 2 ** 26, "name_chars": 256, "seed": 2 ** 63 - 1}
#: layers with at most this many (chain, resonator, tone) terms are evaluated in one
#: broadcast, whatever their band (a loop over tone offsets costs more there)
SMALL = 4096

#: network constants that are device parameters: constant -> (device, parameter). Their
#: defaults are the devices' (resonator damping alpha, rectified volts per watt k_sd and
#: resistance r_res of the spin diode; threshold i_th, nonlinear damping q and resistance
#: r_osc of the oscillator).
DEVICE_CONSTANTS = {
    "alpha": ("spin_diode", "alpha"),
    "k_sd": ("spin_diode", "k_sd"),
    "i_th": ("stno", "i_th"),
    "q": ("stno", "q"),
    "r_osc": ("stno", "r0"),
    "r_res": ("spin_diode", "r0"),
}
#: the network's own circuit constants (SI), those of the seed network
CIRCUIT_CONSTANTS = {
    "g_m": 3.388370758630916e-3,   # A/V (3.39 uA/mV), the V-I stage's transconductance
    "v_b": 0.011084586710145186,   # V (11.1 mV), its bias
    "i_clamp": 40e-6,              # A, its compliance (4 I_th)
    "amp_gain": 1.25,              # power gain of the amplifier after each oscillator
    "v_gain_min": 0.25,            # range of a hidden chain's learned voltage gain A_j
    "v_gain_max": 16.0,            # (its read-out amplifier, before the V-I stage)
}


def default_constants() -> dict[str, float]:
    """Every network constant at its default: the device parameters' defaults
    (:data:`DEVICE_CONSTANTS`) and the circuit's (:data:`CIRCUIT_CONSTANTS`)."""
    from neurospice.compact_models.devices import get_device

    return {**{key: get_device(dev).parameter[par].default
               for key, (dev, par) in DEVICE_CONSTANTS.items()}, **CIRCUIT_CONSTANTS}


def lorentzian(f, fr, alpha):
    """Antisymmetric Lorentzian 2 h d / (h^2 + d^2), d = f - fr, h = alpha fr (peak +-1)."""
    d = f - fr
    h = alpha * fr
    return 2 * h * d / (h * h + d * d)


def lorentzian_and_dfr(f, fr, alpha):
    """:func:`lorentzian` and its derivative d/dfr = 2 (d^2 - h^2)(alpha d + h) / (h^2 + d^2)^2,
    from one evaluation of d, h and the denominator."""
    d = f - fr
    h = alpha * fr
    den = h * h + d * d
    return 2 * h * d / den, 2 * (d * d - h * h) * (alpha * d + h) / (den * den)


def linear_plan(n: int, f_min: float, f_max: float) -> np.ndarray:
    """Equally spaced frequencies (Hz)."""
    return np.linspace(f_min, f_max, n) if n > 1 else np.array([f_min])


def geometric_plan(n: int, f_min: float, f_max: float) -> np.ndarray:
    """Geometrically spaced frequencies (Hz): a constant number of linewidths apart."""
    return np.geomspace(f_min, f_max, n) if n > 1 else np.array([f_min])


@dataclass
class Layer:
    """One layer of resonator chains (see the module docstring). Arrays are numpy, SI."""

    input_freq_hz: np.ndarray        # (n_in,) nominal tone frequencies
    res_freq0_hz: np.ndarray         # (n_in,) nominal resonance of resonator k (all chains)
    shift_lw: np.ndarray             # (n_chains, n_in) learned shift, in linewidths alpha f0
    bias_v: np.ndarray               # (n_chains,) learned chain bias (V)
    osc_freq_hz: np.ndarray | None = None   # (n_chains,) oscillator frequencies; None: output
    band: int | None = None          # tones seen by resonator k: |i - k| <= band
    v_gain: np.ndarray | None = None  # (n_chains,) learned voltage gain A_j; None: output

    @property
    def n_in(self) -> int:
        return len(self.input_freq_hz)

    @property
    def n_chains(self) -> int:
        return len(self.bias_v)

    @property
    def polarity(self) -> np.ndarray:
        """s_k = (-1)^(k+1) for k = 1..n_in: +1, -1, +1, ..."""
        return np.where(np.arange(self.n_in) % 2 == 0, 1.0, -1.0)


@dataclass
class Realisation:
    """A fixed draw of the non-idealities: relative deviations per device."""

    input_freq: list          # per layer (n_in,)
    res_freq: list            # per layer (n_chains, n_in)
    osc_power: list           # per hidden layer (n_chains,)


class RFNetwork:
    """A network description plus its envelope model (forward, gradients)."""

    def __init__(self, layers, *, constants=None, spread: float = 0.0, seed: int = 0,
                 name: str = "rfnet"):
        self.layers: list[Layer] = list(layers)
        self.constants = {**default_constants(), **(constants or {})}
        self.spread = float(spread)
        self.seed = int(seed)
        self.name = name
        self.validate()
        self.realisation = self._draw()

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, sizes, input_freq_hz, *, osc_freq_hz=None, band=None, spread=0.0, seed=0,
              constants=None, name="rfnet", init_shift=0.1, init_bias_v=0.5e-3, trim=False,
              init_v_gain=1.0):
        """A fresh network of layer sizes ``sizes`` = (n_inputs, hidden..., n_outputs).
        ``osc_freq_hz``: one array per hidden layer (default: a geometric plan over the span
        of the input frequencies). ``band``: an int for every layer, or one per layer.
        ``trim``: start the learned shifts from the values that cancel the drawn resonance
        spread (see the module docstring, *Trim*); no effect without a spread.
        ``init_v_gain``: every hidden chain's voltage gain A_j to start from.

        The shifts are drawn from N(0, ``init_shift``) and folded into [-1, 1] linewidths
        (s -> 1/s, which gives a resonator nearly the same weight on its own tone): beyond a
        linewidth from its tone a resonator sits on the Lorentzian's tail, where a gradient
        asking for a smaller weight pushes the resonance further out, and it is lost to
        training (single layers started from shifts of one linewidth: one restart in five
        stuck at 77-83 % on a moons task whose others reached 84-89 %)."""
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise NetlistError(f"layer sizes must be >= 2 positive integers, got {sizes}")
        f_in = np.asarray(input_freq_hz, dtype=float)
        if len(f_in) != sizes[0]:
            raise NetlistError(f"{len(f_in)} input frequencies for {sizes[0]} inputs")
        bands = band if isinstance(band, (list, tuple)) else [band] * (len(sizes) - 1)
        rng = np.random.default_rng(seed)
        layers, freqs = [], f_in
        for li, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            last = li == len(sizes) - 2
            if last:
                osc = None
            elif osc_freq_hz is not None:
                osc = np.asarray(osc_freq_hz[li], dtype=float)
            else:
                osc = geometric_plan(n_out, f_in.min(), f_in.max())
            shift = rng.normal(0.0, init_shift, (n_out, n_in))
            far = np.abs(shift) > 1
            shift[far] = 1 / shift[far]
            layers.append(Layer(input_freq_hz=np.array(freqs, dtype=float),
                                res_freq0_hz=np.array(freqs, dtype=float),
                                shift_lw=shift,
                                bias_v=rng.normal(0.0, init_bias_v, n_out),
                                osc_freq_hz=osc, band=bands[li],
                                v_gain=None if last else np.full(n_out, float(init_v_gain))))
            freqs = osc
        net = cls(layers, constants=constants, spread=spread, seed=seed, name=name)
        if trim:
            for li, lay in enumerate(net.layers):
                lay.shift_lw -= net.realisation.res_freq[li] / net.constants["alpha"]
        return net

    def validate(self) -> None:
        if not self.layers:
            raise NetlistError("a network needs at least one layer")
        for key, value in self.constants.items():
            if key not in DEVICE_CONSTANTS and key not in CIRCUIT_CONSTANTS:
                raise NetlistError(f"unknown network constant {key!r}; known: "
                                   f"{sorted([*DEVICE_CONSTANTS, *CIRCUIT_CONSTANTS])}")
            if not np.isfinite(value) or (value <= 0 and key not in ("v_b",)):
                raise NetlistError(f"network constant {key} must be finite and > 0, got {value}")
        if not 0 <= self.spread < 0.2:
            raise NetlistError(f"spread must be in [0, 0.2), got {self.spread}")
        lo, hi = self.constants["v_gain_min"], self.constants["v_gain_max"]
        if not lo <= 1 <= hi:
            raise NetlistError(f"the voltage gain range [v_gain_min, v_gain_max] = "
                               f"[{lo}, {hi}] must hold 1")
        for li, lay in enumerate(self.layers):
            where = f"layer {li}"
            for nm in ("input_freq_hz", "res_freq0_hz", "shift_lw", "bias_v"):
                arr = np.asarray(getattr(lay, nm), dtype=float)
                setattr(lay, nm, arr)
                if not np.all(np.isfinite(arr)):
                    raise NetlistError(f"{where}: {nm} has non-finite values")
            if np.any(lay.input_freq_hz <= 0) or np.any(lay.res_freq0_hz <= 0):
                raise NetlistError(f"{where}: frequencies must be > 0 Hz")
            if lay.res_freq0_hz.shape != lay.input_freq_hz.shape or lay.input_freq_hz.ndim != 1:
                raise NetlistError(f"{where}: one resonator per input tone in each chain "
                                   f"({lay.input_freq_hz.shape} tones, "
                                   f"{lay.res_freq0_hz.shape} resonators)")
            if lay.shift_lw.shape != (lay.n_chains, lay.n_in):
                raise NetlistError(f"{where}: shift_lw must be (n_chains, n_in) = "
                                   f"{(lay.n_chains, lay.n_in)}, got {lay.shift_lw.shape}")
            if lay.band is not None and (int(lay.band) != lay.band or lay.band < 0):
                raise NetlistError(f"{where}: band must be None or an integer >= 0")
            last = li == len(self.layers) - 1
            if last and lay.osc_freq_hz is not None:
                raise NetlistError(f"{where}: the last layer has no oscillators")
            if last and lay.v_gain is not None:
                raise NetlistError(f"{where}: the last layer has no neurons (v_gain)")
            if not last:
                if lay.osc_freq_hz is None or len(lay.osc_freq_hz) != lay.n_chains:
                    raise NetlistError(f"{where}: needs one oscillator frequency per chain")
                lay.osc_freq_hz = np.asarray(lay.osc_freq_hz, dtype=float)
                if np.any(lay.osc_freq_hz <= 0) or not np.all(np.isfinite(lay.osc_freq_hz)):
                    raise NetlistError(f"{where}: oscillator frequencies must be > 0 Hz")
                gain = np.ones(lay.n_chains) if lay.v_gain is None else \
                    np.asarray(lay.v_gain, dtype=float)
                if gain.shape != (lay.n_chains,):
                    raise NetlistError(f"{where}: v_gain needs one value per chain "
                                       f"({lay.n_chains}), got shape {gain.shape}")
                if not np.all((gain >= lo) & (gain <= hi)):     # also refuses NaN
                    raise NetlistError(f"{where}: v_gain must lie in [v_gain_min, "
                                       f"v_gain_max] = [{lo}, {hi}]")
                lay.v_gain = gain
                nxt = self.layers[li + 1]
                if nxt.n_in != lay.n_chains or not np.allclose(nxt.input_freq_hz,
                                                               lay.osc_freq_hz, rtol=1e-12):
                    raise NetlistError(f"layer {li + 1}: its tones must be the oscillator "
                                       f"frequencies of layer {li}")

    def _draw(self) -> Realisation:
        rng = np.random.default_rng(self.seed + 7919)
        s = self.spread
        inp = [rng.normal(0.0, s, lay.n_in) if s else np.zeros(lay.n_in) for lay in self.layers]
        res = [rng.normal(0.0, s, (lay.n_chains, lay.n_in)) if s
               else np.zeros((lay.n_chains, lay.n_in)) for lay in self.layers]
        osc = [rng.normal(0.0, s, lay.n_chains) if s else np.zeros(lay.n_chains)
               for lay in self.layers[:-1]]
        # a hidden layer's tones are its predecessor's oscillators: inp[l > 0] is their spread
        return Realisation(inp, res, osc)

    # ------------------------------------------------------------------ sizes, JSON
    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].n_in] + [lay.n_chains for lay in self.layers]

    @property
    def device_count(self) -> dict:
        res = sum(lay.n_in * lay.n_chains for lay in self.layers)
        osc = sum(lay.n_chains for lay in self.layers[:-1])
        return {"resonators": res, "oscillators": osc, "total": res + osc}

    def to_dict(self) -> dict:
        return {
            "format": "neurospice.rfnet/1", "name": self.name, "spread": self.spread,
            "seed": self.seed, "constants": dict(self.constants),
            "layers": [{"input_freq_hz": lay.input_freq_hz.tolist(),
                        "res_freq0_hz": lay.res_freq0_hz.tolist(),
                        "shift_lw": lay.shift_lw.tolist(), "bias_v": lay.bias_v.tolist(),
                        "osc_freq_hz": None if lay.osc_freq_hz is None
                        else lay.osc_freq_hz.tolist(),
                        "band": lay.band,
                        "v_gain": None if lay.v_gain is None else lay.v_gain.tolist()}
                       for lay in self.layers]}

    @classmethod
    def from_dict(cls, d: dict, *, source: str = "network description") -> "RFNetwork":
        """A network from its description (:meth:`to_dict`), checked against the schema
        first (see the module docstring); errors name ``source`` and the JSON path."""
        where = _Where(source)
        fields = _object(d, where, required=("format", "layers"),
                         optional=("name", "spread", "seed", "constants"))
        if fields["format"] != FORMAT:
            where.fail("format", f"expected {FORMAT!r}, got {str(fields['format'])[:80]!r} "
                       "(not a neurospice RF network description)")
        name = fields.get("name", "rfnet")
        try:
            check_text(name, what="the name", empty=False, max_length=LIMITS["name_chars"])
        except NetlistError as exc:
            where.fail("name", str(exc))
        spread = _number(fields.get("spread", 0.0), where, "spread")
        seed = fields.get("seed", 0)
        if type(seed) is not int or not 0 <= seed <= LIMITS["seed"]:
            where.fail("seed", f"must be an integer in 0 .. {LIMITS['seed']}")
        constants = _object(fields.get("constants", {}), where, "constants",
                            optional=(*DEVICE_CONSTANTS, *CIRCUIT_CONSTANTS))
        constants = {k: _number(v, where, f"constants.{k}") for k, v in constants.items()}
        raw = fields["layers"]
        if type(raw) is not list or not 1 <= len(raw) <= LIMITS["layers"]:
            where.fail("layers", f"must be a list of 1 .. {LIMITS['layers']} layers")
        layers = [_layer(x, where, f"layers[{li}]", last=li == len(raw) - 1)
                  for li, x in enumerate(raw)]
        try:
            return cls(layers, constants=constants, spread=spread, seed=seed, name=name)
        except NetlistError as exc:
            raise NetlistError(f"{source}: {exc}") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str, *, source: str = "network description") -> "RFNetwork":
        """A network from JSON text (see :meth:`from_dict`)."""
        if not isinstance(text, str):
            raise NetlistError(f"{source}: expected JSON text, got {type(text).__name__}")
        if len(text) > LIMITS["file_bytes"]:
            raise NetlistError(f"{source}: {len(text)} characters; at most "
                               f"{LIMITS['file_bytes']}")
        try:
            d = json.loads(text, object_pairs_hook=_no_duplicates,
                           parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise NetlistError(f"{source}: RF network description is not JSON: {exc}") from None
        except (_Refused, ValueError) as exc:       # int too long, a refused literal or key
            raise NetlistError(f"{source}: RF network description refused: {exc}") from None
        except RecursionError:
            raise NetlistError(f"{source}: RF network description is nested too deeply") \
                from None
        return cls.from_dict(d, source=source)

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the description (JSON) to ``path`` atomically; an existing file is replaced
        only with ``overwrite`` (else OutputExists)."""
        from neurospice.fileio import write_text_atomic

        return write_text_atomic(Path(path), self.to_json(), overwrite=overwrite)

    @classmethod
    def load(cls, path) -> "RFNetwork":
        """A network from a JSON file (a regular file of UTF-8 text, at most
        ``LIMITS['file_bytes']``, read by :func:`neurospice.fileio.read_text`); see
        :meth:`from_dict`."""
        source = str(Path(path))
        text = read_text(path, what="RF network file", max_bytes=LIMITS["file_bytes"],
                         error=NetlistError)
        text = text.removeprefix("\ufeff")         # a byte-order mark is not content
        return cls.from_json(text, source=source)

    def copy(self) -> "RFNetwork":
        return RFNetwork.from_dict(self.to_dict())

    # ------------------------------------------------------------------ actual values
    def tones(self, li: int) -> np.ndarray:
        """Actual frequencies (Hz) of the tones layer ``li`` receives (with the spread)."""
        lay = self.layers[li]
        return lay.input_freq_hz * (1 + self.realisation.input_freq[li]) if li == 0 else \
            self.osc_freq(li - 1)

    def osc_freq(self, li: int) -> np.ndarray:
        """Actual oscillator frequencies (Hz) of hidden layer ``li``."""
        nxt = self.realisation.input_freq[li + 1]
        return self.layers[li].osc_freq_hz * (1 + nxt)

    def res_freq(self, li: int) -> np.ndarray:
        """Actual resonance frequencies (Hz) of layer ``li``'s resonators, (n_chains, n_in):
        as fabricated (with the spread) plus the learned shift."""
        lay = self.layers[li]
        f0 = lay.res_freq0_hz[None, :] * (1 + self.realisation.res_freq[li])
        return f0 + lay.shift_lw * self.constants["alpha"] * lay.res_freq0_hz[None, :]

    def neuron_current(self, v, li: int) -> np.ndarray:
        """The V-I stages' currents (A, before the compliance) of hidden layer ``li`` for its
        chain voltages ``v`` (V): I_j = g_m (A_j V_j + V_b)."""
        return self.constants["g_m"] * (self.layers[li].v_gain * v + self.constants["v_b"])

    def centre(self, powers_w, *, quantile: float = 0.1) -> "RFNetwork":
        """Start every hidden neuron inside its window on the training inputs ``powers_w`` (W),
        layer by layer (a data-dependent initialisation; the shifts are untouched):
        chain j's voltage gain A_j is set so that the central ``1 - 2 quantile`` of its
        summed inputs P.W_j spans the V-I stage's window from threshold to compliance
        ((i_clamp - I_th) / (g_m A_j), A_j kept in [v_gain_min, v_gain_max]), and its bias so
        that their median sits mid-window. The output chains' biases are then set to minus
        the median score, so that the first training steps do not push every hidden
        neuron below threshold (a neuron below threshold for every sample has no gradient
        and stays dead; measured on a 2-4-1 net started at A_j = 1: often 3 of 4 died in the
        first 50 epochs). A network without hidden layers is returned as it is. In place;
        returns the network."""
        x = np.atleast_2d(np.asarray(powers_w, dtype=float))
        if len(self.layers) < 2:
            return self
        if not 0 <= quantile < 0.5:
            raise NetlistError(f"centre: quantile must be in [0, 0.5), got {quantile}")
        c = self.constants
        width = (c["i_clamp"] - c["i_th"]) / c["g_m"]
        for li, lay in enumerate(self.layers[:-1]):
            pw = x @ self.weights(li).T
            lo, mid, hi = np.quantile(pw, [quantile, 0.5, 1 - quantile], axis=0)
            lay.v_gain = np.clip(width / np.maximum(hi - lo, 1e-30), c["v_gain_min"],
                                 c["v_gain_max"])
            v_lo = (c["i_th"] / c["g_m"] - c["v_b"]) / lay.v_gain
            v_hi = (c["i_clamp"] / c["g_m"] - c["v_b"]) / lay.v_gain
            lay.bias_v = (v_lo + v_hi) / 2 - mid
            x = self.oscillator_power(self.neuron_current(pw + lay.bias_v, li), li)[0]
        self.layers[-1].bias_v = self.layers[-1].bias_v - np.median(
            x @ self.weights(len(self.layers) - 1).T + self.layers[-1].bias_v, axis=0)
        return self

    def set_weights(self, li: int, target, *, reach: float = 0.95,
                    iterations: int = 30) -> "RFNetwork":
        """Solve layer ``li``'s shifts so that its weights (:meth:`weights`, V/W) approach
        ``target`` (n_chains, n_in): resonator k of each chain is put on the steep side of
        its Lorentzian at the weight it must give its own tone k, less the other
        resonators' tails there (a fixed-point iteration). A resonator gives at most K_SD
        on its tone; targets beyond ``reach`` K_SD are cut there. In place; returns the
        network."""
        lay = self.layers[li]
        target = np.asarray(target, dtype=float)
        if target.shape != lay.shift_lw.shape:
            raise NetlistError(f"set_weights: layer {li} has weights of shape "
                               f"{lay.shift_lw.shape}, the target {target.shape}")
        a, k_sd, s = self.constants["alpha"], self.constants["k_sd"], lay.polarity[None, :]
        f = self.tones(li)[None, :]
        f0 = lay.res_freq0_hz[None, :] * (1 + self.realisation.res_freq[li])
        for _ in range(iterations):
            own = s * k_sd * lorentzian(f, self.res_freq(li), a)
            t = np.clip((target - self.weights(li) + own) / (s * k_sd), -reach, reach)
            with np.errstate(divide="ignore", invalid="ignore"):   # L = t: d/h on the steep side
                u = np.where(np.abs(t) > 1e-12, (1 - np.sqrt(1 - t * t)) / t, 0.0)
            lay.shift_lw = (f / (1 + a * u) - f0) / (a * lay.res_freq0_hz[None, :])
        return self

    def imitate(self, baseline, powers_w, *, logit_scale: float = 1e3,
                fill: float = 0.8) -> "RFNetwork":
        """Start from a trained conventional model of the same shape (``baseline``, a
        :class:`.baselines.Baseline`: logistic regression for a single layer, a tanh MLP
        for hidden layers), fitted layer by layer on the inputs ``powers_w`` (W): the
        first layer's chains take the model's weights; a later layer's are the
        least-squares fit (lightly ridge-regularised, so that a nearly constant neuron
        gets no large weight) of the model's pre-activations on the powers this network's
        previous layer actually gives. A hidden
        neuron's window (threshold to compliance, through its gain A_j and bias) is placed
        on the tanh's pre-activation where the oscillator's power curve correlates best
        with the tanh over the samples; the output chains reproduce the model's logits at
        ``logit_scale`` per volt (its loss's; a single chain: the two classes'
        difference). Weights beyond ``fill`` K_SD are scaled down, the neuron's window or
        the logits widening with them: a single layer then draws logistic regression's
        boundary exactly (to the resonators' reach). In place; returns the network."""
        params, c = baseline.params, self.constants
        shape = [len(params[0][0])] + [len(b) for _, b in params]
        want = self.sizes[:-1] + [max(2, self.sizes[-1])]
        if shape != want:
            raise NetlistError(f"imitate: the baseline's layers {shape} do not match the "
                               f"network's {self.sizes}")
        x = np.atleast_2d(np.asarray(powers_w, dtype=float))
        hidden = baseline.logits(x, hidden=True)[1]
        k_fill = fill * c["k_sd"]
        width = (c["i_clamp"] - c["i_th"]) / c["g_m"]
        for li, lay in enumerate(self.layers):
            w, b = params[li]
            if li == 0:                                # pre-activation per W, and at 0 W
                z, wz, bz = x @ w / baseline.scale + b, w.T / baseline.scale, b
            else:
                z = hidden[li - 1] @ w + b
                wz, bz = _ridge(x, z)
            if li == len(self.layers) - 1:
                if lay.n_chains == 1:
                    wz, bz = wz[1:] - wz[:1], bz[1:] - bz[:1]
                per_z = np.full(lay.n_chains, 1 / (logit_scale * max(
                    1.0, np.max(np.abs(wz)) / (logit_scale * k_fill))))
                centre = np.zeros(lay.n_chains)
            else:
                half, offset = self._tanh_window(z)
                lay.v_gain = np.clip(width * np.max(np.abs(wz), axis=1) / (2 * half * k_fill),
                                     c["v_gain_min"], c["v_gain_max"])
                per_z = width / (2 * half * lay.v_gain)
                per_z /= np.maximum(1.0, np.max(np.abs(wz), axis=1) * per_z / k_fill)
                v_th = (c["i_th"] / c["g_m"] - c["v_b"]) / lay.v_gain
                centre = v_th + width / (2 * lay.v_gain) - offset * per_z
            self.set_weights(li, wz * per_z[:, None])
            lay.bias_v = centre + bz * per_z
            if li < len(self.layers) - 1:
                x = self.oscillator_power(self.neuron_current(
                    x @ self.weights(li).T + lay.bias_v, li), li)[0]
        return self

    def _tanh_window(self, z):
        """Per hidden chain, the half-width and centre, in the tanh's pre-activation ``z``
        (samples, chains), of the span that the neuron's window (threshold to compliance)
        should cover: those whose oscillator power curve correlates best with tanh(z)."""
        c = self.constants
        halves, offsets = np.linspace(0.4, 3.0, 27), np.linspace(-0.6, 0.6, 13)
        out = np.zeros((2, z.shape[1]))
        for j in range(z.shape[1]):
            t = np.tanh(z[:, j]) - np.tanh(z[:, j]).mean()
            best = -np.inf
            for half in halves:
                u = np.clip(0.5 + (z[:, j, None] - offsets[None, :]) / (2 * half), 0, 1)
                i = c["i_th"] + u * (c["i_clamp"] - c["i_th"])
                xi = i / c["i_th"]
                power = (xi - 1) / (xi + c["q"]) * i * i
                power = power - power.mean(axis=0)
                r = (t @ power) / (np.linalg.norm(t) * np.linalg.norm(power, axis=0) + 1e-300)
                k = int(np.argmax(r))
                if r[k] > best:
                    best, out[:, j] = r[k], (half, offsets[k])
        return out

    def osc_gain(self, li: int) -> np.ndarray:
        return self.constants["amp_gain"] * np.clip(1 + self.realisation.osc_power[li], 0, None)

    # ------------------------------------------------------------------ envelope model
    def band(self, li: int) -> int:
        """The tone offsets resonator k of layer ``li`` sees on either side (tones k - band ...
        k + band): the layer's band, capped at n_in - 1 (all tones) and n_in - 1 for None."""
        lay = self.layers[li]
        return lay.n_in - 1 if lay.band is None else min(int(lay.band), lay.n_in - 1)

    def _kernel(self, li: int, gW=None, chunk: int = 16, keep: list | None = None):
        """W (n_chains, n_in) and, given dLoss/dW, dLoss/dshift_lw. Narrow bands loop over
        the tone offsets; wide ones and small layers (at most :data:`SMALL` (chain,
        resonator, tone) terms, where the loops' overhead would dominate) broadcast over
        (chains, resonators, tones), the wide ones in chunks. ``keep``, a list, receives the derivatives dW/dfr of
        the narrow path (per offset) or of a small layer (whole) so that
        :meth:`_weights_grad` need not evaluate the Lorentzians again."""
        lay = self.layers[li]
        fi, fr, s = self.tones(li), self.res_freq(li), lay.polarity
        a, ksd = self.constants["alpha"], self.constants["k_sd"]
        n, m = lay.n_in, self.band(li)
        W = np.zeros((lay.n_chains, n))
        g = None if gW is None else np.zeros_like(fr)
        small = lay.n_chains * n * n <= SMALL
        if not small and 2 * m + 1 <= max(8, n // 4):
            for o in range(-m, m + 1):            # tone i = k + o for resonator k
                ks, io = slice(max(0, -o), min(n, n - o)), slice(max(0, o), min(n + o, n))
                f, r = fi[None, io], fr[:, ks]
                sk = ksd * s[ks]
                if g is None and keep is None:
                    W[:, io] += sk * lorentzian(f, r, a)
                else:
                    w, dl = lorentzian_and_dfr(f, r, a)
                    W[:, io] += sk * w
                    dl *= sk
                    if keep is not None:
                        keep.append((ks, io, dl))
                    if g is not None:
                        g[:, ks] += gW[:, io] * dl
        else:
            k = np.arange(n)
            mask = (np.abs(k[:, None] - k[None, :]) <= m) * (ksd * s)[:, None]   # (res, tone)
            step = lay.n_chains if small else chunk
            for c0 in range(0, lay.n_chains, step):
                f, r = fi[None, None, :], fr[c0:c0 + step, :, None]
                if g is None and not (small and keep is not None):
                    w = lorentzian(f, r, a)
                else:
                    w, dl = lorentzian_and_dfr(f, r, a)
                    dl *= mask
                W[c0:c0 + step] = np.einsum("ckn,kn->cn", w, mask, optimize=not small)
                if g is not None or (small and keep is not None):
                    if small and keep is not None:
                        keep.append((None, None, dl))
                    if g is not None:
                        g[c0:c0 + step] = (dl @ gW[c0:c0 + step, :, None])[:, :, 0]
        if g is None:
            return W
        return W, g * a * lay.res_freq0_hz[None, :]

    def weights(self, li: int) -> np.ndarray:
        """W (n_chains, n_in), V/W: chain j's DC voltage per watt of tone i (band applied)."""
        return self._kernel(li)

    def _weights_grad(self, li: int, gW: np.ndarray, kept=None) -> np.ndarray:
        """dLoss/dshift_lw from dLoss/dW (``kept``: the derivatives a forward pass kept)."""
        if not kept:
            return self._kernel(li, gW)[1]
        lay = self.layers[li]
        g = np.zeros((lay.n_chains, lay.n_in))
        for ks, io, dl in kept:
            if ks is None:                        # a small layer's whole dW/dfr
                g += (dl @ gW[:, :, None])[:, :, 0]
            else:
                g[:, ks] += gW[:, io] * dl
        return g * self.constants["alpha"] * lay.res_freq0_hz[None, :]

    def truncation_error(self, li: int = 0) -> float:
        """Largest magnitude, relative to the resonators' peak K_SD, of the summed tail a
        chain loses to the band for equal unit powers on every tone (0 without a band)."""
        lay = self.layers[li]
        if lay.band is None or lay.band >= lay.n_in - 1:
            return 0.0
        full = self.copy()
        full.realisation = self.realisation
        full.layers[li].band = None
        diff = full.weights(li) - self.weights(li)
        return float(np.max(np.abs(diff.sum(axis=1))) / self.constants["k_sd"])

    def oscillator_power(self, current, li: int):
        """Emitted power (W) of layer ``li``'s oscillators and dP/dI, for chain currents."""
        c = self.constants
        i = np.clip(current, 0.0, c["i_clamp"])
        xi = i / c["i_th"]
        on = xi > 1
        p = np.where(on, (xi - 1) / (xi + c["q"]), 0.0)
        dp = np.where(on, (1 + c["q"]) / (c["i_th"] * (xi + c["q"]) ** 2), 0.0)
        g = self.osc_gain(li) * c["r_osc"]
        inside = (current > 0) & (current < c["i_clamp"])
        return g * p * i * i, np.where(inside, g * (dp * i * i + 2 * p * i), 0.0)

    def forward(self, powers_w, *, keep: bool = False):
        """Class scores (V, the last layer's chain voltages) for a batch of input powers (W),
        shape (batch, n_inputs). With ``keep``, also the per-layer intermediates:
        a list of dicts with ``p_in`` (W), ``v`` (chain voltages, V), ``i`` (oscillator
        currents, A) and ``p_out`` (emitted powers, W)."""
        x = np.atleast_2d(np.asarray(powers_w, dtype=float))
        if x.shape[1] != self.layers[0].n_in:
            raise NetlistError(f"inputs have {x.shape[1]} powers, the network "
                               f"{self.layers[0].n_in}")
        trace = []
        for li, lay in enumerate(self.layers):
            kept = [] if keep else None
            w = self._kernel(li, keep=kept)
            v = x @ w.T + lay.bias_v
            rec = {"p_in": x, "v": v, "w": w, "dw": kept}
            if li < len(self.layers) - 1:
                cur = self.neuron_current(v, li)
                x, dx = self.oscillator_power(cur, li)
                rec.update(i=cur, p_out=x, dp=dx)
            trace.append(rec)
        return (v, trace) if keep else v

    @staticmethod
    def scores(v) -> np.ndarray:
        """Class scores from the output chain voltages: the voltages themselves, or, for a
        single output chain (a binary classifier), (0, V): class 1 where V > 0."""
        v = np.asarray(v, dtype=float)
        return np.c_[np.zeros(len(v)), v[:, 0]] if v.shape[1] == 1 else v

    def predict(self, powers_w) -> np.ndarray:
        return self.classify(self.forward(powers_w))

    @classmethod
    def classify(cls, v) -> np.ndarray:
        """Class of each sample from the output chain voltages (V)."""
        return np.argmax(cls.scores(np.atleast_2d(v)), axis=1)

    def accuracy(self, powers_w, labels) -> float:
        return float(np.mean(self.predict(powers_w) == np.asarray(labels)))

    def sample_losses(self, powers_w, labels, *, logit_scale: float = 1e3) -> np.ndarray:
        """Each sample's softmax cross-entropy (the terms whose mean
        :meth:`loss_and_grads` returns)."""
        return self._cross_entropy(self.forward(powers_w), np.asarray(labels, dtype=int),
                                   logit_scale)[0]

    @classmethod
    def _cross_entropy(cls, v, y, logit_scale):
        """Per-sample cross-entropy of the scores of output voltages ``v`` and the softmax
        probabilities."""
        z = cls.scores(v) * logit_scale
        z = z - z.max(axis=1, keepdims=True)
        prob = np.exp(z)
        prob /= prob.sum(axis=1, keepdims=True)
        return -np.log(prob[np.arange(len(y)), y] + 1e-300), prob

    def loss_and_grads(self, powers_w, labels, *, logit_scale: float = 1e3):
        """Softmax cross-entropy of the scores (in mV: ``logit_scale`` per V) and its analytic
        gradients: a list of (d/dshift_lw, d/dbias_v, d/dv_gain) per layer (the last
        None: the output layer has no V-I stages)."""
        v, trace = self.forward(powers_w, keep=True)
        y = np.asarray(labels, dtype=int)
        losses, prob = self._cross_entropy(v, y, logit_scale)
        nb = len(y)
        loss = float(np.mean(losses))
        gv = prob
        gv[np.arange(nb), y] -= 1.0
        gv *= logit_scale / nb
        if v.shape[1] == 1:
            gv = gv[:, 1:]
        grads = [None] * len(self.layers)
        g_gain = None
        for li in range(len(self.layers) - 1, -1, -1):
            rec = trace[li]
            gW = gv.T @ rec["p_in"]
            grads[li] = (self._weights_grad(li, gW, rec["dw"]), gv.sum(axis=0), g_gain)
            if li:
                prev = trace[li - 1]
                gi = (gv @ rec["w"]) * prev["dp"]              # dLoss/dI of the oscillators
                g_gain = self.constants["g_m"] * np.sum(gi * prev["v"], axis=0)
                gv = gi * (self.constants["g_m"] * self.layers[li - 1].v_gain)
        return loss, grads


def _ridge(x, z, penalty: float = 1e-3):
    """Weights (outputs, inputs) and biases of the least-squares fit z ~ x W^T + b, with a
    ridge of ``penalty`` per sample on the weights in units of each input's largest value
    (so that an input that hardly varies gets no large weight)."""
    top = np.maximum(np.max(np.abs(x), axis=0), 1e-300)
    xs = x / top
    xm, zm = xs.mean(axis=0), z.mean(axis=0)
    a = xs - xm
    beta = np.linalg.solve(a.T @ a + penalty * len(x) * np.eye(x.shape[1]), a.T @ (z - zm))
    return (beta / top[:, None]).T, zm - xm @ beta


# --- the network file's schema -------------------------------------------------------------

class _Refused(ValueError):
    """A JSON document refused while it is parsed (duplicate key, NaN literal)."""


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key {key[:80]!r} appears twice in one object")
        out[key] = value
    return out


def _no_constant(name):
    raise _Refused(f"{name} is not a finite number")


class _Where:
    """The file a description came from; :meth:`fail` raises naming it and a JSON path."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, message: str):
        raise NetlistError(f"{self.source}: {path}: {message}" if path else
                           f"{self.source}: {message}")


def _object(value, where: _Where, path: str = "", *, required=(), optional=()) -> dict:
    if type(value) is not dict:
        where.fail(path, f"expected an object, got {_kind(value)}")
    missing = [k for k in required if k not in value]
    if missing:
        where.fail(path, f"missing key(s) {missing}")
    unknown = [k for k in value if k not in required and k not in optional]
    if unknown:
        where.fail(path, f"unknown key {str(unknown[0])[:80]!r}; known: "
                   f"{sorted([*required, *optional])}")
    return value


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def _number(value, where: _Where, path: str) -> float:
    if type(value) not in (int, float):
        where.fail(path, f"expected a number, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        where.fail(path, "not a finite number")
    return number


def _vector(value, where: _Where, path: str, limit: int, length: int | None = None):
    if type(value) is not list:
        where.fail(path, f"expected a list of numbers, got {_kind(value)}")
    if not 1 <= len(value) <= limit:
        where.fail(path, f"{len(value)} entries; 1 .. {limit} allowed")
    if length is not None and len(value) != length:
        where.fail(path, f"{len(value)} entries where {length} are needed")
    if all(type(v) is float for v in value):
        arr = np.array(value, dtype=float)
        if np.all(np.isfinite(arr)):
            return arr
    return np.array([_number(v, where, f"{path}[{k}]") for k, v in enumerate(value)])


def _layer(value, where: _Where, path: str, *, last: bool) -> Layer:
    keys = ("input_freq_hz", "res_freq0_hz", "shift_lw", "bias_v")
    x = _object(value, where, path, required=keys, optional=("osc_freq_hz", "band", "v_gain"))
    f_in = _vector(x["input_freq_hz"], where, f"{path}.input_freq_hz", LIMITS["tones"])
    n_in = len(f_in)
    f_res = _vector(x["res_freq0_hz"], where, f"{path}.res_freq0_hz", LIMITS["tones"], n_in)
    bias = _vector(x["bias_v"], where, f"{path}.bias_v", LIMITS["chains"])
    n_chains = len(bias)
    if n_in * n_chains > LIMITS["resonators"]:
        where.fail(path, f"{n_in} x {n_chains} resonators; at most {LIMITS['resonators']}")
    rows = x["shift_lw"]
    if type(rows) is not list or len(rows) != n_chains:
        where.fail(f"{path}.shift_lw", f"expected a list of {n_chains} rows (one per chain), "
                   f"got {_kind(rows) if type(rows) is not list else f'{len(rows)} rows'}")
    shift = np.array([_vector(r, where, f"{path}.shift_lw[{j}]", LIMITS["tones"], n_in)
                      for j, r in enumerate(rows)])
    osc = x.get("osc_freq_hz")
    if osc is not None:
        osc = _vector(osc, where, f"{path}.osc_freq_hz", LIMITS["chains"], n_chains)
    elif not last:
        where.fail(f"{path}.osc_freq_hz", "a hidden layer needs one oscillator frequency per "
                   "chain")
    gain = x.get("v_gain")
    if gain is not None:
        gain = _vector(gain, where, f"{path}.v_gain", LIMITS["chains"], n_chains)
    band = x.get("band")
    if band is not None and (type(band) is not int or not 0 <= band <= LIMITS["tones"]):
        where.fail(f"{path}.band", f"must be null or an integer in 0 .. {LIMITS['tones']}")
    return Layer(input_freq_hz=f_in, res_freq0_hz=f_res, shift_lw=shift, bias_v=bias,
                 osc_freq_hz=osc, band=band, v_gain=gain)
