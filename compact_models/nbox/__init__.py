"""NbOx (NbO2) threshold switch, the neuron device (docs/physics/nbox.md).

A thermally driven threshold switch: Joule heating raises the device temperature ``T``, which
raises the conductance, which raises the heating. Under voltage control this positive feedback
gives an S-shaped quasi-static I-V (current-controlled negative differential resistance, NDR)
between a threshold voltage V_th (the insulating branch folds over) and a hold voltage V_h
(the conducting branch folds back); a voltage sweep snaps back at V_th and recovers at V_h.

Conductance of the switching region (``mix`` selects or blends the two families)::

    G(T, E) = g_ref exp[-(ea/kB)(1/T - 1/t_ref)] exp[(w(E) - w(0)) / (kB T)]      (NbO2)
              + mix g_met sigmoid((T - t_c) / w_c)                                   (VO2)
    w(E) = sqrt(q E / (pi eps0 eps_r))  [eV],   E = |v_ox| / d_ox   (smoothed at E = 0)

The first term is Poole-Frenkel/Arrhenius conduction (thermally activated hopping over a
field-lowered barrier, Gibson 2016, Slesazeck 2015); ``g_ref`` is the low-field conductance at
``t_ref``. The second is a metallic channel that opens smoothly around the insulator-to-metal
transition temperature ``t_c`` (VO2: 340 K; NbO2: about 1080 K). ``mix = 0`` is the pure
NbO2 Poole-Frenkel model, ``mix = 1`` the VO2-type transition on an activated insulating
background.

Series (contact) resistance ``r_c`` inside the device, in closed form (no internal node, no
branch): the oxide voltage is estimated once, v_ox = v / (1 + G0 r_c) with ``G0 = G(T, |v|/d)``,
the conductance re-evaluated at it, ``G1 = G(T, |v_ox|/d)``, and the terminal current is
i = v G1 / (1 + G1 r_c). The Joule power that heats the switching region is that of the oxide
only, P = i^2 / G1 = v^2 G1 / (1 + G1 r_c)^2.

Thermal states (two time scales):

    c_th dT/dt  = P - (T - Ts)/r_th + (t_noise / r_th) xi(t)      device (ns)
    c_env dTs/dt = (T - Ts)/r_th - (Ts - t_amb)/r_env             surroundings (slow)

``Ts`` heats up over many spikes and lowers the threshold; it is the slow variable of phasic
bursting. Noise input ``xi``: a dimensionless N(0,1) sample per slot (from
:func:`~neurospice.compact_models.randomness.noise_pwl`); ``t_noise`` is the temperature offset
a constant unit sample would hold, so a fluctuation of rms ~ t_noise sqrt(dt / (2 tau_th))
for slots dt shorter than tau_th = r_th c_th. Tie ``xi`` to ground when unused.

State scales: temperatures are stored as node voltages of T/1000 K (0.3 V at room temperature).

Default parameters (NbO2 crosspoint device, about 100 nm, 20 nm oxide) give, quasi-statically
with the surroundings at ambient, V_th ~ 1.0 V and V_h ~ 0.6 V (see :func:`threshold_hold`):
inside the 0.8-1.2 V / 0.5-0.8 V range reported for NbO2 crosspoint threshold switches
(Pickett & Williams 2012; Kumar et al. 2017; Gibson et al. 2016). These are stated choices,
not a fit: calibrate them (the ``nbox-iv`` recipe of :mod:`neurospice.calibration`).

The steady state (static S-curve, slow dual sweeps, V_th and V_h): :mod:`.static`.
"""

from __future__ import annotations

import numpy as np

from neurospice.compact_models.framework import Device, Parameter, State

KB_EV = 8.617333262e-5          # Boltzmann constant, eV/K
Q_E = 1.602176634e-19           # elementary charge, C
EPS0 = 8.8541878128e-12         # vacuum permittivity, F/m
V_SMOOTH = 1e-3                 # V: |v| is smoothed as sqrt(v^2 + V_SMOOTH^2) in the PF term

_GIBSON = "Gibson et al., APL 108, 023505 (2016)"
_SLESAZECK = "Slesazeck et al., RSC Adv. 5, 102318 (2015)"
_KUMAR = "Kumar et al., Nature 548, 318 (2017)"
_PICKETT = "Pickett & Williams, Nanotechnology 23, 215202 (2012)"


def _g_act(vx: str) -> str:
    """The Poole-Frenkel/Arrhenius conductance at oxide voltage ``vx`` (expression text)."""
    return (f"g_ref*exp(-ea/{KB_EV!r}*(1.0/tk - 1.0/t_ref) + beta*(sqrt(sqrt({vx}*{vx} + "
            f"{V_SMOOTH!r}*{V_SMOOTH!r})/d_ox) - sqrt({V_SMOOTH!r}/d_ox))/({KB_EV!r}*tk))")


DEVICE = Device(
    name="nbox",
    description="NbOx/VO2 thermal threshold switch: Poole-Frenkel or insulator-metal "
                "conduction, thermal feedback, slow surroundings, contact resistance, noise",
    terminals=("p", "n"),
    noise_inputs=("xi",),
    parameters=(
        Parameter("g_ref", "S", 3e-6, 1e-12, 1.0, "low-field conductance at t_ref "
                  "(insulating state)", "~300 kohm for a ~100 nm NbO2 crosspoint, " + _KUMAR,
                  lower_open=True),
        Parameter("ea", "eV", 0.3, 0.0, 2.0, "activation energy of the trap conduction",
                  "0.2-0.3 eV, " + _SLESAZECK + "; " + _GIBSON),
        Parameter("eps_r", "", 100.0, 1.0, 1000.0, "relative permittivity in the Poole-Frenkel "
                  "barrier lowering", "stated choice; NbO2 films 40-100, " + _GIBSON),
        Parameter("d_ox", "m", 40e-9, 1e-10, 1e-5, "oxide (switching layer) thickness",
                  "10-60 nm NbO2 films, " + _KUMAR, lower_open=True),
        Parameter("t_ref", "K", 300.0, 50.0, 2000.0, "reference temperature of g_ref (not "
                  "below the model's temperature floor, 50 K: with t_ref at 1 K the Arrhenius "
                  "factor at 300 K is e^3470, inf in double precision)", ""),
        Parameter("mix", "", 0.0, 0.0, 1.0, "weight of the insulator-metal channel: 0 = "
                  "Poole-Frenkel (NbO2), 1 = sigmoidal IMT (VO2)", "docs/physics/nbox.md"),
        Parameter("g_met", "S", 1e-2, 0.0, 1e3, "metallic-channel conductance", "VO2 metal "
                  "state; Galloni et al., PNAS 121, e2318362121 (2024)"),
        Parameter("t_c", "K", 1080.0, 1.0, 3000.0, "insulator-metal transition temperature",
                  "NbO2 1080 K, VO2 340 K"),
        Parameter("w_c", "K", 10.0, 0.01, 1000.0, "width of the transition (sigmoid scale)",
                  ""),
        Parameter("r_c", "ohm", 300.0, 0.0, 1e7, "series (contact/electrode) resistance",
                  "sets the on-state resistance and V_h; " + _KUMAR),
        Parameter("r_th", "K/W", 1e6, 1.0, 1e12, "thermal resistance device -> surroundings",
                  "~1e6 K/W, " + _PICKETT + "; " + _GIBSON, lower_open=True),
        Parameter("c_th", "J/K", 1e-15, 1e-24, 1.0, "heat capacity of the switching region",
                  "tau_th = r_th c_th ~ 1 ns, " + _PICKETT, lower_open=True),
        Parameter("r_env", "K/W", 2e5, 1.0, 1e12, "thermal resistance surroundings -> ambient",
                  "stated choice", lower_open=True),
        Parameter("c_env", "J/K", 2e-11, 1e-24, 1.0, "heat capacity of the surroundings",
                  "tau_env = r_env c_env ~ 4 us, stated choice", lower_open=True),
        Parameter("t_amb", "K", 300.0, 1.0, 2000.0, "ambient (stage) temperature", ""),
        Parameter("t_noise", "K", 0.0, 0.0, 1e4, "temperature-noise gain per unit noise sample",
                  "0: deterministic"),
    ),
    states=(State("T", "K", 1000.0, "t_amb", "temperature of the switching region"),
            State("Ts", "K", 1000.0, "t_amb", "temperature of the surroundings (slow)")),
    locals=(
        ("vd", "v(p, n)"),
        # temperature smoothly floored at 50 K: Newton iterates never see 1/T blow up
        ("tk", "50.0 + 10.0*softplus((T - 50.0)/10.0)"),
        ("beta", f"sqrt({Q_E!r}/({np.pi!r}*{EPS0!r}*eps_r))"),
        ("gm", "mix*g_met*sigmoid((tk - t_c)/w_c)"),
        ("g0", _g_act("vd") + " + gm", 1e-3),
        ("vox", "vd/(1.0 + g0*r_c)", 1.0),
        ("g1", _g_act("vox") + " + gm", 1e-3),
        ("den", "1.0 + g1*r_c"),
        ("cur", "vd*g1/den"),
        ("pox", "vd*vd*g1/(den*den)"),
    ),
    currents=(("p", "n", "cur"),),
    rates={"T": "(pox - (T - Ts)/r_th + t_noise/r_th*v(xi))/c_th",
           "Ts": "((T - Ts)/r_th - (Ts - t_amb)/r_env)/c_env"},
    references=(_GIBSON, _SLESAZECK, _KUMAR, _PICKETT, "docs/physics/nbox.md"),
)


# the steady state (static I-V, slow sweeps, V_th and V_h) lives in .static
from .static import (StaticCurve, oxide_power, static_curve, sweep_currents,  # noqa: E402
                     sweep_folds, threshold_hold)
