"""Level 3: energy per decision of the whole machine, from level 1 (cycles, sizes) and level 2
(read energy per bit from the SPICE column), with its breakdown, and a microcontroller
estimate for the same exact inference in floating point.

Assumptions (stated, every one a parameter of :class:`EnergyAssumptions`; digital energies
are for a 130-nm-class CMOS at 1.2 V and scale as VDD^2):

- memory: every likelihood word of the observed values is read once per decision (n_obs + 1
  observations x C classes x ``bits`` bits) and latched; the energy per bit read is level 2's;
- RNG: one ``bits``-bit random number per observation per cycle from a 16-bit LFSR shifted
  ``bits`` times: 16 flip-flop clocks per shift;
- logic: per cycle, C ``bits``-bit comparators per observation (``bits`` gate operations
  each) and C AND trees of n_obs gates;
- counters: per cycle each class counter is clocked (``ceil(log2(cycles + 1))`` flip-flops)
  and about two of its bits toggle on a count (counts from level 1).
- microcontroller: the exact inference as ``(n_obs + 1) C`` floating-point log-likelihood
  additions from a table in flash plus C comparisons, ``mcu_cycles_per_term`` clock cycles
  each (loads, address arithmetic, soft-float add on a Cortex-M0+-class core), at
  ``mcu_energy_per_cycle`` joules per cycle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class EnergyAssumptions:
    """Energies [J] at ``vdd_ref`` [V] (scaled as (vdd/vdd_ref)^2 for the digital parts)."""

    vdd_ref: float = 1.2
    e_flipflop: float = 5e-15        # one flip-flop clock (incl. its clock load)
    e_gate: float = 1e-15            # one gate operation (AND, comparator slice)
    mcu_cycles_per_term: float = 40.0
    mcu_energy_per_cycle: float = 30e-12


def energy_per_decision(*, n_obs: int, n_classes: int, bits: int, cycles: int,
                        read_energy_per_bit: float, vdd: float = 1.2, mean_count: float = 0.0,
                        assumptions: EnergyAssumptions | None = None) -> dict:
    """Energy [J] of one decision, broken down: ``memory``, ``rng``, ``logic``, ``counters``
    and ``total``. ``n_obs`` excludes the prior (added here); ``mean_count``: the mean final
    counter value (level 1), for the counter toggles."""
    a = assumptions or EnergyAssumptions()
    scale = (vdd / a.vdd_ref) ** 2
    obs = n_obs + 1
    memory = obs * n_classes * bits * read_energy_per_bit
    rng = cycles * obs * bits * 16 * a.e_flipflop * scale
    logic = cycles * n_classes * (obs * bits + obs) * a.e_gate * scale
    width = math.ceil(math.log2(cycles + 1))
    counters = (cycles * n_classes * width * a.e_flipflop
                + n_classes * mean_count * 2 * a.e_flipflop) * scale
    out = {"memory": memory, "rng": rng, "logic": logic, "counters": counters}
    out["total"] = sum(out.values())
    return out


def microcontroller_energy(n_obs: int, n_classes: int,
                           assumptions: EnergyAssumptions | None = None) -> float:
    """Energy [J] of the exact floating-point naive-Bayes decision on a microcontroller."""
    a = assumptions or EnergyAssumptions()
    terms = (n_obs + 1) * n_classes + n_classes
    return terms * a.mcu_cycles_per_term * a.mcu_energy_per_cycle
