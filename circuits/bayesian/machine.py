"""Level 1 of the Bayesian machine: bit-level stochastic computing in numpy.

Mapping (Harabi et al.): the prior is one more "observation" with a single value; for each
observation i and value v the likelihoods ``P(o_i = v | y)`` are divided by their maximum over
the classes (the argmax is unchanged, the coincidence rate is as high as it can be) and stored
as ``bits``-bit words ``w = round(p (2^bits - 1))`` (at least 1: a zero word would veto a
class for ever) in the likelihood memories. Each cycle, observation i's random-number source
gives ``r_i`` in [0, 2^bits); the comparator gives the Bernoulli bit ``r_i < w[i, o_i, y]`` for
every class y (one random number per observation, shared by the classes: this is the
machine's design), the AND tree multiplies the bits of all observations, and class y's counter
counts the coincidences. After ``cycles`` the largest counter decides (ties: lowest class).

Random-number sources: ``"numpy"`` (a seeded generator, independent between observations),
``"lfsr"`` (one 16-bit maximal-length Galois LFSR per observation and inference, seeded from
the generator, ``bits`` shifts per cycle) or ``"shared"`` (one stream for every observation:
the correlation stochastic computing must avoid; the products are then wrong).

Device error model: the stored words' bits read wrong with a bit-error rate (from the level-2
column Monte-Carlo, :mod:`.column`: static per programmed machine, as the errors come from
device and sense-amplifier mismatch), and injected single-event upsets (a given number of
stored bits flipped).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurospice.errors import ArgumentError

LFSR_TAPS = 0xB400          # x^16 + x^14 + x^13 + x^11 + 1 (Galois form): period 65535


@dataclass
class Machine:
    """A programmed machine: ``words`` (n_obs + 1, n_values, C) unsigned ints of ``bits``
    bits (the last observation is the prior, its value always 0)."""

    words: np.ndarray
    bits: int

    @property
    def n_classes(self) -> int:
        return self.words.shape[2]

    @property
    def memory_bits(self) -> int:
        """Stored bits (one 2T2R cell, two memristors, each)."""
        return int(self.words.size * self.bits)


def program(model, bits: int = 8) -> Machine:
    """Map a :class:`~.naive_bayes.NaiveBayes` model onto ``bits``-bit likelihood words."""
    if not (isinstance(bits, int) and 1 <= bits <= 16):
        raise ArgumentError(f"word width must be an integer in [1, 16], got {bits!r}")
    lk = model.likelihood
    prior = np.zeros((1, lk.shape[1], lk.shape[2]))
    prior[0, :, :] = np.exp(model.log_prior)[None, :]
    tables = np.concatenate([lk, prior], axis=0)
    scaled = tables / tables.max(axis=2, keepdims=True)
    top = (1 << bits) - 1
    return Machine(np.clip(np.rint(scaled * top), 1, top).astype(np.int64), bits)


def flip_bits(machine: Machine, *, ber: float = 0.0, upsets: int = 0, seed=0) -> Machine:
    """A copy of ``machine`` whose stored bits are flipped: each with probability ``ber``
    (read errors) and ``upsets`` more chosen at random (single-event upsets)."""
    if not (0.0 <= ber <= 1.0):
        raise ArgumentError(f"ber must be in [0, 1], got {ber!r}")
    if not (0 <= upsets <= machine.memory_bits):
        raise ArgumentError(f"upsets must be in [0, {machine.memory_bits}], got {upsets!r}")
    gen = np.random.default_rng(seed)
    flips = gen.random(machine.words.shape + (machine.bits,)) < ber
    flat = flips.reshape(-1)
    if upsets:
        flat[gen.choice(flat.size, upsets, replace=False)] ^= True
    weights = (1 << np.arange(machine.bits)).astype(np.int64)
    mask = (flips * weights).sum(axis=-1)
    return Machine(machine.words ^ mask, machine.bits)


def lfsr_step(state: np.ndarray, shifts: int) -> tuple[np.ndarray, np.ndarray]:
    """Advance 16-bit Galois LFSRs ``shifts`` times; returns (new state, the ``shifts``
    output bits as an integer, first bit most significant)."""
    out = np.zeros_like(state)
    for _ in range(shifts):
        lsb = state & 1
        out = (out << 1) | lsb
        state = (state >> 1) ^ (lsb * LFSR_TAPS)
    return state, out


def infer(machine: Machine, x, cycles: int, *, seed=0, rng: str = "numpy",
          chunk: int = 512) -> np.ndarray:
    """Run the machine on observations ``x`` (n, n_obs) for ``cycles`` and return the class
    counters (n, C). Vectorised over inferences (``chunk`` at a time)."""
    x = np.asarray(x)
    n_obs = machine.words.shape[0] - 1
    if x.ndim != 2 or x.shape[1] != n_obs:
        raise ArgumentError(f"observations must be (n, {n_obs}), got {x.shape}")
    if rng not in ("numpy", "lfsr", "shared"):
        raise ArgumentError(f"rng must be 'numpy', 'lfsr' or 'shared', got {rng!r}")
    if not (isinstance(cycles, int) and cycles >= 1):
        raise ArgumentError(f"cycles must be a positive integer, got {cycles!r}")
    gen = np.random.default_rng(seed)
    xs = np.concatenate([x, np.zeros((x.shape[0], 1), dtype=x.dtype)], axis=1)
    counts = np.zeros((x.shape[0], machine.n_classes), dtype=np.int64)
    obs = np.arange(n_obs + 1)[None, :]
    top = 1 << machine.bits
    for s in range(0, x.shape[0], chunk):
        sel = machine.words[obs, xs[s:s + chunk], :]          # (m, n_obs + 1, C)
        m = sel.shape[0]
        if rng == "lfsr":
            state = gen.integers(1, 1 << 16, (m, n_obs + 1))
        for _ in range(cycles):
            if rng == "numpy":
                r = gen.integers(0, top, (m, n_obs + 1))
            elif rng == "shared":
                r = np.repeat(gen.integers(0, top, (m, 1)), n_obs + 1, axis=1)
            else:
                state, r = lfsr_step(state, machine.bits)
            counts[s:s + m] += np.all(r[:, :, None] < sel, axis=1)
    return counts


def decide(counts: np.ndarray) -> np.ndarray:
    """The decision: the class with the largest counter (ties: the lowest class)."""
    return np.argmax(counts, axis=1)


def accuracy_vs_cycles(machine: Machine, x, y, cycles, **kw) -> np.ndarray:
    """Accuracy after each number of cycles in ``cycles`` (one run of the largest, the
    counters read at each checkpoint)."""
    cycles = sorted(int(c) for c in cycles)
    acc, done, counts = [], 0, np.zeros((len(y), machine.n_classes), dtype=np.int64)
    seed = np.random.default_rng(kw.pop("seed", 0))
    for c in cycles:
        if c > done:
            counts += infer(machine, x, c - done, seed=seed, **kw)
            done = c
        acc.append(float(np.mean(decide(counts) == np.asarray(y))))
    return np.array(acc)


def pair_error_rate(sigma_gap: float, *, r_lrs: float = 5e3, r_hrs: float = 50e3,
                    v_read: float = 0.1, n: int = 100_000, seed=0) -> float:
    """Bit-error rate of an ideal (offset-free) sense amplifier reading 2T2R pairs whose
    programmed gaps spread with ``sigma_gap`` [m] and whose ``i0`` spreads with the rram
    device's ``default_spread`` (numpy; the variability study's device limit): the fraction of
    pairs whose LRS device reads a higher resistance than its HRS device."""
    from neurospice.compact_models.devices import get_device
    from neurospice.compact_models.rram import gap_for_resistance, read_resistance

    dev = get_device("rram")
    p = dev.params()
    gen = np.random.default_rng(seed)
    _, sig = dev.default_spread["i0"]
    g_l, g_h = gap_for_resistance(r_lrs, v_read), gap_for_resistance(r_hrs, v_read)
    gaps = np.array([g_l, g_h])[:, None] + sigma_gap * gen.standard_normal((2, n))
    gaps = np.clip(gaps, p["gmin"], p["gmax"])
    # the read current is proportional to i0: a lognormal i0 divides the resistance
    r = read_resistance(gaps, v_read) * np.exp(-sig * gen.standard_normal((2, n)))
    return float(np.mean(r[0] >= r[1]))
