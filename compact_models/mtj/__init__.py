"""Static magnetic tunnel junction: bias-dependent TMR and STT switching in the thermal regime.

Free-layer state ``m`` in [-1, 1] is the ensemble-mean state, ``2 P(parallel) - 1``: the
junction is a two-state system whose transition rates follow the thermally activated STT law
(docs/physics/mtj.md), and ``m`` obeys its master equation

    dm/dt = k_P(I) (1 - m) - k_AP(I) (1 + m),
    k_P  = ln2 / tau(I),   tau(I) = tau0 exp(softplus(delta (1 - I/ic0_p)))
    k_AP = ln2 / tau(-I),  with ic0_ap for the P -> AP direction,

so that a junction starting in one state crosses the midpoint after exactly tau(I): the mean
switching time of the thermal law tau0 exp[delta (1 - I/Ic0)] (softplus keeps it at tau0
above the critical current, where switching becomes precessional). With no current both rates
are tau0^-1 exp(-delta) (retention). Positive current (p -> n) drives towards parallel.

Conductance: G = [G_P (1 + m) + G_AP(V) (1 - m)] / 2 with G_AP = G_P / (1 + TMR(V)) and
TMR(V) = tmr0 / (1 + V^2 / vh^2).

Noise input ``xi``: a dimensionless sample (N(0,1) from the netlist builder) adding
``sigma * xi * (1 - m^2)`` to dm/dt: telegraph-like fluctuations of low-barrier junctions (a
Langevin term on the mean state, not exact Markov jumps). Tie ``xi`` to ground when unused.
"""

from neurospice.compact_models.framework import Device, Parameter, State


def state_range(params) -> tuple[float, float]:
    """Magnetisations of the lowest and the highest read conductance: -1 (AP), +1 (P)."""
    return -1.0, 1.0


DEVICE = Device(
    name="mtj",
    description="static MTJ: bias-dependent TMR, STT switching in the thermal regime",
    terminals=("p", "n"),
    noise_inputs=("xi",),
    parameters=(
        Parameter("rp", "ohm", 3e3, 1.0, 1e9, "parallel-state resistance at zero bias",
                  "typical CoFeB/MgO nanopillar", lower_open=True),
        Parameter("tmr0", "", 1.5, 0.0, 20.0, "zero-bias tunnel magnetoresistance ratio",
                  "CoFeB/MgO, docs/physics/mtj.md"),
        Parameter("vh", "V", 0.4, 1e-3, 10.0, "bias at which the TMR is halved",
                  "docs/physics/mtj.md: 0.3-0.5 V"),
        Parameter("ic0_p", "A", 50e-6, 1e-9, 1.0, "critical current AP -> P (positive current)",
                  "I_c0 = (4e alpha / hbar eta) E_b, docs/physics/mtj.md"),
        Parameter("ic0_ap", "A", 75e-6, 1e-9, 1.0, "critical current P -> AP (negative current)",
                  "P -> AP needs more current in CoFeB/MgO"),
        Parameter("delta", "", 40.0, 0.5, 200.0, "thermal stability E_b / k_B T",
                  "docs/physics/mtj.md: 40-60"),
        Parameter("tau0", "s", 1e-9, 1e-13, 1e-3, "attempt time", "docs/physics/mtj.md: ~1 ns",
                  lower_open=True),
        Parameter("m0", "", 1.0, -1.0, 1.0, "initial state: +1 parallel, -1 antiparallel", ""),
        Parameter("sigma", "1/s", 0.0, 0.0, 1e12, "noise-input gain on dm/dt (0: deterministic)",
                  ""),
    ),
    states=(State("m", "", 1.0, "m0", "ensemble-mean free-layer state, 2 P(parallel) - 1"),),
    locals=(
        ("vpn", "v(p, n)"),
        ("tmr", "tmr0 / (1 + vpn*vpn/(vh*vh))"),
        ("g", "0.5/rp * ((1 + m) + (1 - m)/(1 + tmr))"),
        ("cur", "g * vpn"),
        ("k_p", "0.6931471805599453/tau0 * exp(-softplus(delta*(1 - cur/ic0_p)))"),
        ("k_ap", "0.6931471805599453/tau0 * exp(-softplus(delta*(1 + cur/ic0_ap)))"),
    ),
    currents=(("p", "n", "cur"),),
    rates={"m": "k_p*(1 - m) - k_ap*(1 + m) + sigma*v(xi)*(1 - m*m)"},
    references=("docs/physics/mtj.md (TMR(V), thermally activated STT switching)",),
    state_parameter="m0",
    state_range=state_range,
    default_spread={"rp": ("normal", 0.03)},
)
