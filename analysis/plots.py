"""Plotting: the only module of neurospice that imports matplotlib (on first use).

Every function writes a PNG (atomically) and returns its path; nothing is shown on screen.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from pathlib import Path
from typing import Mapping, Sequence

# The drawer of the innermost open ``background()`` block of this context (thread), if any.
_DRAWER: contextvars.ContextVar = contextvars.ContextVar("neurospice_plot_drawer",
                                                         default=None)


def _draw_loop(jobs, answers) -> None:
    """The child process of :func:`background`: import matplotlib at once (while the parent
    works), then draw each job received, answering ``(True, None)`` or ``(False, error)``;
    an empty message or a closed pipe ends it."""
    import pickle

    from matplotlib.backends import backend_agg  # noqa: F401  (loaded before the first job)
    from matplotlib.figure import Figure  # noqa: F401

    while True:
        try:
            payload = jobs.recv_bytes()
        except EOFError:
            return
        if not payload:
            return
        fn, args, kw = pickle.loads(payload)
        try:
            fn(*args, **kw)
            answer = (True, None)
        except Exception as exc:  # noqa: BLE001  (sent to the parent, raised there)
            answer = (False, exc)
        try:
            answers.send(answer)
        except Exception:  # noqa: BLE001  (an error that does not pickle: its text)
            answers.send((False, RuntimeError(f"{type(answer[1]).__name__}: {answer[1]}")))


# The child's program: this process's module path first, then the loop on two pipes.
_CHILD = ("import sys\n"
          "from multiprocessing.connection import Connection\n"
          "jobs = Connection(int(sys.argv[1]), writable=False)\n"
          "sys.path[:] = jobs.recv()\n"
          "from neurospice.analysis.plots import _draw_loop\n"
          "_draw_loop(jobs, Connection(int(sys.argv[2]), readable=False))\n"
          "import os\n"                       # its files are closed: no teardown (0.1 s)
          "sys.stderr.flush()\n"
          "os._exit(0)\n")


class Drawing:
    """The child process of one :func:`background` block (``process``, a plain ``python
    -c`` on two pipes: nothing of the caller's main script runs again in it, as
    multiprocessing's spawn would) and the plots sent to it (``sent``: function, positional
    and keyword arguments)."""

    def __init__(self) -> None:
        import os
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        job_r, job_w = os.pipe()
        ans_r, ans_w = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(job_r), str(ans_w)],
                pass_fds=(job_r, ans_w), stdin=subprocess.DEVNULL, close_fds=True)
        except BaseException:
            for fd in (job_w, ans_r):
                os.close(fd)
            raise
        finally:
            os.close(job_r)
            os.close(ans_w)
        self._jobs = Connection(job_w, readable=False)
        self._answers = Connection(ans_r, writable=False)
        self.sent: list[tuple] = []
        with contextlib.suppress(OSError):    # a child gone already: submit() says so
            self._jobs.send(list(sys.path))
        self._done = False

    def submit(self, fn, args, kw) -> bool:
        """Send one plot to the child; False (nothing sent) when its arguments do not
        pickle or the child is gone: the caller draws it in this process."""
        import pickle

        try:
            payload = pickle.dumps((fn, args, kw))   # now: later changes to them don't count
            self._jobs.send_bytes(payload)
        except Exception:  # noqa: BLE001  (unpicklable arguments, a broken pipe)
            return False
        self.sent.append((fn, args, kw))
        return True

    def wait(self) -> None:
        """Wait until every plot sent is drawn; raise the first plot's error (as the child
        raised it). A plot the child could not answer (it died) is drawn here."""
        if self._done:
            return
        self._done = True
        answers = []
        try:
            self._jobs.send_bytes(b"")
            for _ in self.sent:
                answers.append(self._answers.recv())
        except (EOFError, OSError):
            pass
        finally:
            self._close()
        for ok, err in answers:
            if not ok:
                raise err
        for fn, args, kw in self.sent[len(answers):]:
            fn(*args, **kw)

    def _close(self) -> None:
        self._jobs.close()
        self._answers.close()
        self.process.wait()

    def abandon(self) -> None:
        """After a failure elsewhere: stop the child at once when it has nothing to write,
        else let it finish what it writes (no half-written file is left) and drop its
        errors."""
        if self._done:
            return
        if not self.sent:
            self._done = True
            self.process.terminate()
            self._close()
            return
        with contextlib.suppress(Exception):
            self.wait()


@contextlib.contextmanager
def background():
    """Draw this module's plots in a child process started now, for a command whose own
    work (imports, a fit) can overlap with matplotlib's import and the drawing.

    Inside the block each plotting function sends its arguments (pickled at the call) to
    the child and returns its ``path`` at once; the block's end (or ``.wait()`` on the
    object it yields) waits for every plot and raises the first plot's error. Plots whose
    arguments do not pickle, and calls from other threads, are drawn in the calling
    process as outside the block. When the block fails, a child with nothing to draw is
    stopped, else it finishes its files (each written atomically). Yields the
    :class:`Drawing`, or None when no process could be started (the plots are then drawn
    in this process)."""
    try:
        drawing = Drawing()
    except OSError:
        yield None
        return
    token = _DRAWER.set(drawing)
    try:
        yield drawing
    except BaseException:
        _DRAWER.reset(token)
        drawing.abandon()
        raise
    _DRAWER.reset(token)
    drawing.wait()


def _drawable(fn):
    """A plotting function that a :func:`background` block sends to its child process."""
    @functools.wraps(fn)
    def draw(*args, **kw):
        drawing = _DRAWER.get()
        if drawing is not None and drawing.submit(draw, args, kw):
            import inspect

            return Path(inspect.signature(fn).bind(*args, **kw).arguments["path"])
        return fn(*args, **kw)
    return draw


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


@_drawable
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


@_drawable
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

@_drawable
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


@_drawable
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


@_drawable
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

@_drawable
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


@_drawable
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


@_drawable
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


@_drawable
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


@_drawable
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
