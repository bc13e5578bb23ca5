"""HfO2 RRAM: a filament-gap compact model (Stanford-PKU family) with abrupt SET, gradual
RESET, a weak-RESET regime, Joule heating, smooth bounds and a cycle-to-cycle noise input.

State: the gap ``g`` between the conductive filament's tip and the top electrode
(docs/physics/rram.md, [L]). Conduction is tunnelling across the gap,

    I = i0 exp(-g/g0 - sread xi) sinh(V/v0),

and the gap moves by field- and temperature-assisted ion hopping,

    dg/dt = -vel0 exp(-Ea(g)/kT) sinh(gamma a0 V / (tox kT)) * W * exp(sc2c xi),
    Ea(g) = ea + dea sigmoid((g - gk)/dk),
    gamma = gamma0 - beta (g/g1)^3,   T = t0 + rth I V   (I V >= 0: the dissipated power).

Positive V (p above n) shrinks the gap: SET. It is *abrupt* because of two positive
feedbacks: a shrinking gap raises the current, hence the temperature (Joule heating), and the
field-enhancement factor gamma. RESET (V < 0) is *gradual*: the growing gap lowers the
current and gamma, so each RESET step slows the next. Small negative pulses (about -0.3 V,
100 ns here) move the gap by 1e-4 nm each: the *weak-RESET regime* in which the resistance
rises a little per pulse (ln R grows by dg/g0 at a low read voltage); the seed's statistics of
that drift are in :mod:`.variability`, and :mod:`.weak_reset` maps them onto this model.

Smooth bounds, no clamping: the drive is multiplied by a window
``W = tanh((g - gmin)/dwin) s + tanh((gmax - g)/dwin) (1 - s)``, where the selector
``s = sigmoid(x/0.05)`` picks the bound the drive points at (x is the sinh argument). Each
tanh is zero at its bound and changes sign beyond it, so the bound is a stable fixed point
of the ODE whatever the drive: g stays in [gmin, gmax] (to the solver's tolerance) and the
ON/OFF ratio of a full SET/RESET is ``exp((gmax - gmin)/g0)`` at a low read voltage. With no
bias the rate is exactly zero (retention; the thermal drift at V = 0 is neglected).

Weak-RESET knee: the activation energy is ``ea + dea sigmoid((g - gk)/dk)`` -- the hopping
barrier rises by ``dea`` where the filament's tip leaves the vacancy-rich region at the gap
``gk`` (width ``dk``), so the weak-RESET drift continues at ``exp(-dea/kT)`` of its rate beyond
it: the seed's two-slope drift with its knee (:mod:`.weak_reset` maps each device of the seed's
ensemble to ``ea``, ``dea``, ``gk``, ``dk`` and ``gi``). The default ``dea = 0`` (and ``gk``
beyond any gap) means no knee.

Noise input ``xi`` (a sample per programming pulse, from
:func:`~neurospice.compact_models.randomness.noise_pwl` or a per-pulse step PWL; tie it to
ground when unused) acts twice, each with its own gain: it scales the switching rate by
``exp(sc2c xi)`` -- lognormal cycle-to-cycle variation of each programming step (stochastic
ion hopping; with an N(0,1) sample) -- and the conduction by ``exp(-sread xi)`` -- read noise
from traps near the filament (RTN from one trap, 1/f from many), which changes ln R by
``sread xi`` without moving the gap (the seed's noise model: :mod:`.weak_reset` feeds it the
RTN chain plus the 1/f noise in ln R units, with ``sread = 1``). Both gains default to 0.

Defaults: the Stanford RRAM model v1.0.0 parameter set (Jiang, Wong et al., "A compact model
for metal-oxide resistive random access memory with experiment verification", IEEE TED 63,
1884 (2016); Guan, Yu, Wong, IEEE EDL 33, 1405 (2012)) -- generic HfOx values to be
calibrated (:mod:`neurospice.calibration.recipes.rram`), not trusted. The window width
``dwin``, the noise gains ``sc2c`` and ``sread`` and the knee ``gk``, ``dk``, ``dea`` are this
model's own.
"""

from neurospice.compact_models.framework import Device, Parameter, State

_STANFORD = "Stanford RRAM model v1.0.0 (Jiang et al., IEEE TED 2016)"

#: Boltzmann constant over the elementary charge [V/K]: kT in volts.
K_OVER_Q = 8.617333262e-5


def state_range(params) -> tuple[float, float]:
    """Gaps [m] of the lowest and the highest read conductance: gmax, gmin."""
    return params["gmax"], params["gmin"]


DEVICE = Device(
    name="rram",
    description="HfO2 RRAM, filament-gap model: abrupt SET, gradual RESET, weak-RESET drift, "
                "Joule heating, smooth gap bounds, c2c noise input",
    terminals=("p", "n"),
    noise_inputs=("xi",),
    parameters=(
        Parameter("i0", "A", 1e-3, 0.0, 1.0, "tunnelling current prefactor", _STANFORD,
                  lower_open=True),
        Parameter("g0", "m", 0.25e-9, 1e-12, 1e-8, "gap decay length of the current",
                  _STANFORD),
        Parameter("v0", "V", 0.25, 1e-3, 10.0, "I-V nonlinearity voltage", _STANFORD),
        Parameter("vel0", "m/s", 10.0, 0.0, 1e6, "gap velocity prefactor", _STANFORD,
                  lower_open=True),
        Parameter("ea", "eV", 0.6, 0.0, 5.0, "activation energy of ion hopping", _STANFORD),
        Parameter("a0", "m", 0.25e-9, 1e-12, 1e-8, "hopping distance", _STANFORD),
        Parameter("tox", "m", 5e-9, 1e-10, 1e-6, "oxide thickness", _STANFORD),
        Parameter("gamma0", "", 16.0, 0.0, 100.0, "field-enhancement factor at zero gap",
                  _STANFORD),
        Parameter("beta", "", 0.8, 0.0, 100.0, "decrease of the enhancement with the gap",
                  _STANFORD),
        Parameter("g1", "m", 1e-9, 1e-12, 1e-6, "gap scale of the enhancement decrease",
                  _STANFORD),
        Parameter("tamb", "K", 298.0, 1.0, 1000.0, "ambient temperature", _STANFORD),
        Parameter("rth", "K/W", 2.1e3, 0.0, 1e9, "thermal resistance (Joule heating)",
                  _STANFORD),
        Parameter("gmin", "m", 0.1e-9, 0.0, 1e-8, "smallest gap (LRS)", _STANFORD),
        Parameter("gmax", "m", 1.7e-9, 1e-11, 1e-7, "largest gap (HRS)", _STANFORD),
        Parameter("gi", "m", 1.7e-9, 0.0, 1e-7, "initial (programmed) gap", "HRS by default"),
        Parameter("dwin", "m", 0.02e-9, 1e-13, 1e-9, "width of the smooth gap bounds",
                  "this model: a few % of gmax - gmin", lower_open=True),
        Parameter("sc2c", "", 0.0, 0.0, 5.0,
                  "cycle-to-cycle noise: sigma of ln(switching rate) per unit noise sample",
                  "this model; calibrate on pulse data (0: deterministic)"),
        Parameter("gk", "m", 1e-7, 0.0, 1e-6,
                  "knee gap: the hopping barrier rises by dea beyond it",
                  "this model (weak-RESET knee; default beyond any gap: no knee)"),
        Parameter("dk", "m", 0.01e-9, 0.0, 1e-8, "width of the barrier step at gk",
                  "this model", lower_open=True),
        Parameter("dea", "eV", 0.0, -2.0, 3.0,
                  "rise of the activation energy beyond gk (ln(m1/m2) kT in weak RESET)",
                  "this model (0: no knee)"),
        Parameter("sread", "", 0.0, 0.0, 5.0,
                  "read noise: ln(conductance) falls by sread per unit noise input",
                  "this model (trap occupancy: RTN, 1/f; 0: none)"),
    ),
    states=(State("g", "m", 1e-9, "gi", "filament gap (node volts = nm)"),),
    locals=(
        ("vd", "v(p, n)"),
        ("cur", "i0*exp(-g/g0 - sread*v(xi))*sinh(vd/v0)"),
        ("tk", "tamb + rth*cur*vd"),
        ("kt", f"{K_OVER_Q}*tk"),
        ("gam", "gamma0 - beta*(g/g1)*(g/g1)*(g/g1)"),
        ("xs", "gam*a0*vd/(tox*kt)"),
        ("sel", "sigmoid(xs/0.05)"),
        ("win", "tanh((g - gmin)/dwin)*sel + tanh((gmax - g)/dwin)*(1 - sel)"),
        ("eak", "ea + dea*sigmoid((g - gk)/dk)"),
    ),
    currents=(("p", "n", "cur"),),
    rates={"g": "-vel0*exp(-eak/kt)*sinh(xs)*win*exp(sc2c*v(xi))"},
    references=(
        "docs/physics/rram.md (filament gap model, weak-RESET regime)",
        "Z. Jiang et al., IEEE Trans. Electron Devices 63, 1884 (2016)",
        "X. Guan, S. Yu, H.-S. P. Wong, IEEE Electron Device Lett. 33, 1405 (2012)",
    ),
    state_parameter="gi",
    state_range=state_range,
    # the seed's R0 spread (381.7 / 6988 Ohm) as a spread of the current prefactor
    default_spread={"i0": ("lognormal", 381.7 / 6988.0)},
)


def read_resistance(g, v_read: float = 0.1, params=None):
    """Chord resistance V/I at ``v_read`` for gap(s) ``g`` [m] (numpy, vectorised)."""
    import numpy as np

    p = DEVICE.params(params)
    return v_read / (p["i0"] * np.exp(-np.asarray(g, dtype=float) / p["g0"])
                     * np.sinh(v_read / p["v0"]))


def gap_for_resistance(r, v_read: float = 0.1, params=None):
    """The gap [m] whose chord resistance at ``v_read`` is ``r`` (inverse of
    :func:`read_resistance`)."""
    import numpy as np

    p = DEVICE.params(params)
    return -p["g0"] * np.log(v_read / (np.asarray(r, dtype=float) * p["i0"]
                                       * np.sinh(v_read / p["v0"])))


def on_off_ratio(v_read: float = 0.1, params=None) -> float:
    """R(gmax)/R(gmin) at ``v_read``: the ON/OFF ratio of a full SET/RESET with this set."""
    import math

    p = DEVICE.params(params)
    return math.exp((p["gmax"] - p["gmin"]) / p["g0"])
