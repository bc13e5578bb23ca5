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


def curves(panels: Sequence[Mapping], path, *, title: str = "", ncols: int | None = None
           ) -> Path:
    """A grid of x-y panels. Each panel is a mapping with ``series`` (a list of
    ``(x, y, label)`` or ``(x, y, label, style)``, style a matplotlib format such as ``"o"``
    or ``"--"``) and optionally ``title``, ``xlabel``, ``ylabel``, ``logx``, ``logy``."""
    plt = _pyplot()
    n = len(panels)
    ncols = ncols or min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        for s in panel["series"]:
            x, y, label = s[:3]
            ax.plot(x, y, s[3] if len(s) > 3 else "-", label=label, lw=1.3, ms=4)
        if panel.get("logx"):
            ax.set_xscale("log")
        if panel.get("logy"):
            ax.set_yscale("log")
        ax.set_title(panel.get("title", ""), fontsize=10)
        ax.set_xlabel(panel.get("xlabel", ""))
        ax.set_ylabel(panel.get("ylabel", ""))
        ax.grid(alpha=0.3)
        if any(s[2] for s in panel["series"]):
            ax.legend(fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)
