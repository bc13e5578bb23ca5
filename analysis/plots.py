"""Plotting: the only module of neurospice that imports matplotlib (on first use).

Every function writes a PNG (atomically) and returns its path; nothing is shown on screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> Path:
    from neurospice._fileio import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format=path.suffix.lstrip(".") or "png")
    _pyplot().close(fig)
    return path


def waveforms_side_by_side(results: Mapping[str, object], signals: Sequence[str], path, *,
                           title: str = "", xscale: float = 1.0, xlabel: str = "time (s)"
                           ) -> Path:
    """One column per simulator, one row per signal; ``results`` maps a label to a Result."""
    plt = _pyplot()
    ncol, nrow = max(len(results), 1), len(signals)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 2.4 * nrow), sharex=True,
                             squeeze=False)
    for col, (label, res) in enumerate(results.items()):
        for row, name in enumerate(signals):
            ax = axes[row][col]
            ax.plot(res.axis * xscale, res[name], lw=1.2)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(label)
            if col == 0:
                ax.set_ylabel(name)
            if row == nrow - 1:
                ax.set_xlabel(xlabel)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)
