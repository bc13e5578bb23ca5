"""Plotting: the only module of neurospice that imports matplotlib (on first use).

Every function writes a PNG (atomically) and returns its path; nothing is shown on screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence


def _figure(figsize):
    """A figure of its own (matplotlib's object interface, no pyplot: no global figure list
    to close, no backend chosen for a screen, safe from threads); PNG through Agg on save."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def _subplots(*args, figsize, **kw):
    fig = _figure(figsize)
    return fig, fig.subplots(*args, **kw)


def _save(fig, path, dpi: int = 120) -> Path:
    from neurospice.fileio import atomic_path

    path = Path(path)
    with atomic_path(path, overwrite=True) as tmp:   # callers vet the folder
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    return path


def _style(ax, *, xlabel: str | None = None, ylabel: str | None = None, title: str = "",
           legend: bool = False, grid: str = "both", **title_kw) -> None:
    """The finishing touches every single-axis plot shares."""
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if legend:
        ax.legend(fontsize=8)
    if grid:
        ax.grid(alpha=0.3, **({} if grid == "both" else {"axis": grid}))
    if title:
        ax.set_title(title, **title_kw)


def _finish(fig, path, *, suptitle: str = "", tight: bool = True, dpi: int = 120) -> Path:
    """A figure's title, layout and atomic save."""
    if suptitle:
        fig.suptitle(suptitle)
    if tight:
        fig.tight_layout()
    return _save(fig, path, dpi)


def waveforms_side_by_side(results: Mapping[str, object], signals: Sequence[str], path, *,
                           title: str = "", xscale: float = 1.0, xlabel: str = "time (s)"
                           ) -> Path:
    """One column per simulator, one row per signal; ``results`` maps a label to a Result."""
    ncol, nrow = max(len(results), 1), len(signals)
    fig, axes = _subplots(nrow, ncol, figsize=(3.6 * ncol, 2.4 * nrow), sharex=True,
                          squeeze=False)
    for col, (label, res) in enumerate(results.items()):
        for row, name in enumerate(signals):
            ax = axes[row][col]
            ax.plot(res.axis * xscale, res[name], lw=1.2)
            _style(ax)
            if row == 0:
                ax.set_title(label)
            if col == 0:
                ax.set_ylabel(name)
            if row == nrow - 1:
                ax.set_xlabel(xlabel)
    return _finish(fig, path, suptitle=title)


def curves(panels: Sequence[Mapping], path, *, title: str = "", ncols: int | None = None
           ) -> Path:
    """A grid of x-y panels. Each panel is a mapping with ``series`` (a list of
    ``(x, y, label)`` or ``(x, y, label, style)``, style a matplotlib format such as ``"o"``
    or ``"--"``) and optionally ``title``, ``xlabel``, ``ylabel``, ``logx``, ``logy``."""
    n = len(panels)
    ncols = ncols or min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = _subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        for s in panel["series"]:
            x, y, label = s[:3]
            ax.plot(x, y, s[3] if len(s) > 3 else "-", label=label, lw=1.3, ms=4)
        if panel.get("logx"):
            ax.set_xscale("log")
        if panel.get("logy"):
            ax.set_yscale("log")
        _style(ax, xlabel=panel.get("xlabel", ""), ylabel=panel.get("ylabel", ""),
               title=panel.get("title", ""), legend=any(s[2] for s in panel["series"]),
               fontsize=10)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return _finish(fig, path, suptitle=title)


# ----------------------------------------------------------------------- calibration plots

def fit_overlay(panels: Sequence[Mapping], path, *, title: str = "", ncols: int | None = None,
                xscale: float = 1.0, yscale: float = 1.0, xunit: str = "", yunit: str = "",
                dpi: int = 120) -> Path:
    """Data vs fit with the residuals below, one panel per curve.

    Each panel maps ``x``, ``y`` (data), ``fit_x``, ``fit_y`` (the model on a fine grid),
    ``residual`` (data - fit at ``x``) and optional ``label``, ``xlabel``, ``ylabel``,
    ``text`` (a line printed in the panel, e.g. R^2). ``xscale``/``yscale`` convert SI to the
    displayed unit (named by ``xunit``/``yunit``).
    """
    n = max(len(panels), 1)
    ncols = ncols or min(n, 3)
    nrows = -(-n // ncols)
    fig = _figure(figsize=(4.2 * ncols, 3.8 * nrows))
    outer = fig.add_gridspec(nrows, ncols, hspace=0.42, wspace=0.32)
    for k, p in enumerate(panels):
        r, c = divmod(k, ncols)
        inner = outer[r, c].subgridspec(2, 1, height_ratios=[3, 1], hspace=0.08)
        ax = fig.add_subplot(inner[0])
        axr = fig.add_subplot(inner[1], sharex=ax)
        x = [v * xscale for v in p["x"]]
        ax.plot(x, [v * yscale for v in p["y"]], ".", ms=3, color="0.35", label="data")
        ax.plot([v * xscale for v in p["fit_x"]], [v * yscale for v in p["fit_y"]], "-",
                lw=1.4, color="C3", label="fit")
        axr.plot(x, [v * yscale for v in p["residual"]], ".", ms=2.5, color="C0")
        axr.axhline(0.0, color="0.5", lw=0.8)
        ax.set_title(p.get("label", ""), fontsize=9)
        if p.get("text"):
            ax.text(0.02, 0.04, p["text"], transform=ax.transAxes, fontsize=7.5)
        ax.tick_params(labelbottom=False, labelsize=7.5)
        axr.tick_params(labelsize=7.5)
        ax.set_ylabel(p.get("ylabel", f"y ({yunit})" if yunit else "y"), fontsize=8)
        axr.set_ylabel("resid.", fontsize=8)
        axr.set_xlabel(p.get("xlabel", f"x ({xunit})" if xunit else "x"), fontsize=8)
        ax.grid(alpha=0.3)
        axr.grid(alpha=0.3)
        if k == 0:
            ax.legend(fontsize=7, loc="best")
    return _finish(fig, path, suptitle=title, tight=False, dpi=dpi)


def hysteresis_loop(curves: Sequence[Mapping], path, *, title: str = "",
                    xlabel: str = "voltage (V)", ylabel: str = "resistance (ohm)",
                    xscale: float = 1.0, yscale: float = 1.0) -> Path:
    """Branches of a loop in one plane: each curve maps ``x``, ``y`` (data), optional
    ``fit_x``/``fit_y`` and ``label``; arrows mark the sweep direction of the data."""
    fig, ax = _subplots(figsize=(5.2, 4.0))
    for k, cv in enumerate(curves):
        color = f"C{k}"
        x = [v * xscale for v in cv["x"]]
        y = [v * yscale for v in cv["y"]]
        ax.plot(x, y, ".", ms=3, color=color, label=cv.get("label", ""))
        if cv.get("fit_x") is not None:
            ax.plot([v * xscale for v in cv["fit_x"]], [v * yscale for v in cv["fit_y"]], "-",
                    lw=1.2, color=color)
        if len(x) > 2:
            m = len(x) // 2
            ax.annotate("", xy=(x[m + 1], y[m + 1]), xytext=(x[m], y[m]),
                        arrowprops={"arrowstyle": "->", "color": color})
    _style(ax, xlabel=xlabel, ylabel=ylabel, title=title, legend=True)
    return _finish(fig, path)


def kittel_plot(freq_hz, field_t, field_err, fit_freq_hz, fit_field_t, path, *,
                width_t=None, width_err=None, fit_width_t=None, used=None,
                width_used=None, title: str = "") -> Path:
    """Resonance field against frequency with the Kittel curve (and, given widths, the
    half width against frequency with the damping law). Fields in mT, frequencies in GHz;
    ``used``/``width_used`` mark the points that entered each fit (others drawn hollow)."""
    ncol = 2 if width_t is not None else 1
    fig, axes = _subplots(1, ncol, figsize=(5.0 * ncol, 4.0), squeeze=False)
    used = [True] * len(freq_hz) if used is None else list(used)
    f = [v / 1e9 for v in freq_hz]

    def points(ax, ys, errs, flags):
        for fi, y, e, u in zip(f, ys, errs, flags):
            ax.errorbar(fi, y * 1e3, yerr=(e or 0) * 1e3, fmt="o", ms=4, color="C0",
                        mfc="C0" if u else "white", capsize=2)

    ax = axes[0][0]
    points(ax, field_t, field_err or [0] * len(f), used)
    ax.plot([v / 1e9 for v in fit_freq_hz], [v * 1e3 for v in fit_field_t], "-", color="C3",
            label="Kittel fit")
    _style(ax, xlabel="frequency (GHz)", ylabel="resonance field mu0 H_r (mT)", legend=True)
    if width_t is not None:
        ax = axes[0][1]
        points(ax, width_t, width_err or [0] * len(f),
               used if width_used is None else list(width_used))
        if fit_width_t is not None:
            ax.plot([v / 1e9 for v in fit_freq_hz], [v * 1e3 for v in fit_width_t], "-",
                    color="C3", label="damping law")
        _style(ax, xlabel="frequency (GHz)", ylabel="half width mu0 dH (mT)",
               legend=fit_width_t is not None)
    return _finish(fig, path, suptitle=title)


# --------------------------------------------------------------------------- spikes

def spike_waveform(t, signals: Sequence[tuple], spike_times, path, *, title: str = "",
                   xscale: float = 1e6, xlabel: str = "time (us)") -> Path:
    """Stacked waveforms sharing the time axis, with the detected spikes marked on each:
    ``signals`` is a list of ``(y, label)`` or ``(y, label, yscale)``."""
    import numpy as np

    fig, axes = _subplots(len(signals), 1, figsize=(7.5, 1.9 * len(signals) + 0.6),
                          sharex=True, squeeze=False)
    t = np.asarray(t, dtype=float)
    spikes = np.asarray(spike_times, dtype=float)
    for ax, sig in zip(axes[:, 0], signals):
        y, label = np.asarray(sig[0], dtype=float), sig[1]
        scale = sig[2] if len(sig) > 2 else 1.0
        ax.plot(t * xscale, y * scale, lw=1.0)
        if len(spikes):
            ax.plot(spikes * xscale, np.interp(spikes, t, y) * scale, "v", ms=4, color="C3")
        _style(ax, ylabel=label)
    axes[-1, 0].set_xlabel(xlabel)
    if title:
        axes[0, 0].set_title(f"{title} ({len(spikes)} spikes)")
    return _finish(fig, path)


def raster(trains: Mapping[str, object], path, *, title: str = "", xscale: float = 1e6,
           xlabel: str = "time (us)") -> Path:
    """One row of ticks per spike train (label -> spike times)."""
    import numpy as np

    fig, ax = _subplots(figsize=(7.5, 0.5 * len(trains) + 1.2))
    for row, (label, times) in enumerate(trains.items()):
        times = np.asarray(times, dtype=float) * xscale
        ax.vlines(times, row + 0.6, row + 1.4, lw=1.0)
    ax.set_yticks(range(1, len(trains) + 1), list(trains))
    _style(ax, xlabel=xlabel, title=title, grid="x")
    return _finish(fig, path)


def fi_curve(inputs, rates, path, *, title: str = "", xlabel: str = "input",
             xscale: float = 1.0, series: Mapping[str, tuple] | None = None) -> Path:
    """Firing rate (kHz) against the input; ``series`` adds more labelled (inputs, rates)."""
    import numpy as np

    fig, ax = _subplots(figsize=(4.8, 3.4))
    for label, (x, r) in {"": (inputs, rates), **(series or {})}.items():
        ax.plot(np.asarray(x, float) * xscale, np.asarray(r, float) / 1e3, "o-", ms=4,
                label=label or None)
    _style(ax, xlabel=xlabel, ylabel="rate (kHz)", title=title, legend=bool(series))
    return _finish(fig, path)


def isi_histogram(trains: Mapping[str, object], path, *, bins: int = 30, title: str = "",
                  xscale: float = 1e6, xlabel: str = "ISI (us)") -> Path:
    """Histograms of the inter-spike intervals of each train (label -> spike times)."""
    import numpy as np

    fig, ax = _subplots(figsize=(4.8, 3.4))
    for label, times in trains.items():
        isi = np.diff(np.asarray(times, dtype=float)) * xscale
        if len(isi):
            ax.hist(isi, bins=bins, histtype="step", lw=1.4, label=label)
    _style(ax, xlabel=xlabel, ylabel="count", title=title, legend=True)
    return _finish(fig, path)


def decision_boundary(xx, yy, zz, points, labels, path, *, title: str = "",
                      xlabel: str = "x", ylabel: str = "y") -> Path:
    """A classifier's score ``zz`` over the grid (``xx``, ``yy``) as a filled map with its
    zero contour (the decision boundary), and labelled points on top."""
    import numpy as np

    fig, ax = _subplots(figsize=(4.6, 4.0))
    lim = float(np.max(np.abs(zz))) or 1.0
    cs = ax.contourf(xx, yy, zz, levels=21, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.contour(xx, yy, zz, levels=[0.0], colors="k", linewidths=1.5)
    fig.colorbar(cs, ax=ax)
    labels = np.asarray(labels)
    for c, mk in ((0, "o"), (1, "^")):
        sel = labels == c
        ax.scatter(points[sel, 0], points[sel, 1], s=10, marker=mk, edgecolors="k",
                   linewidths=0.3, label=f"class {c}")
    ax.legend(loc="upper right", fontsize=7)
    _style(ax, xlabel=xlabel, ylabel=ylabel, title=title, grid="", fontsize=9)
    return _finish(fig, path)
