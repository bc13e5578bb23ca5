"""Writing a calibration out: JSON parameter set, model cards, Markdown report, PNG plots.

:func:`write_outputs` writes into one folder (each file atomically):

- ``<device>.json``: ``{"device", "recipe", "params" (the whole card), "stderr", "derived",
  "verification", "warnings", "notes", "fits": {...}}``; ``read_card`` reads its ``params``;
- the cards from :func:`neurospice.compact_models.export.export`: ``<device>.ngspice.lib``,
  ``<device>.xyce.lib``, ``<device>.vacask.inc``, ``<device>.va`` (fitted values as defaults);
- ``report.md``: the card with standard errors, per-fit statistics, confidence intervals,
  correlations, warnings, verification;
- PNG plots (data vs fit with residuals; the R(V) loop for MTJ sweeps; the Kittel and
  damping plot for field sweeps) through :mod:`neurospice.analysis.plots`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from neurospice.fileio import write_text_atomic

from .recipes import Calibration, kittel_field

__all__ = ["write_outputs", "write_json", "write_cards", "markdown", "plot_calibration"]

CARD_FILES = {"ngspice": "{d}.ngspice.lib", "xyce": "{d}.xyce.lib",
              "vacask": "{d}.vacask.inc", "verilog-a": "{d}.va"}


def _num(v, digits=6) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}g}"


def write_json(cal: Calibration, path) -> Path:
    def clean(o):
        if isinstance(o, dict):
            return {str(k): clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        if isinstance(o, (np.floating, float)):
            return float(o) if math.isfinite(o) else None
        if isinstance(o, (np.integer,)):
            return int(o)
        if isinstance(o, np.bool_):
            return bool(o)
        return o

    return write_text_atomic(path, json.dumps(clean(cal.to_dict()), indent=1) + "\n")


def write_cards(cal: Calibration, folder) -> list[Path]:
    """The fitted card in every dialect (nothing when the recipe has no device)."""
    if cal.device is None:
        return []
    from neurospice.compact_models.devices import get_device
    from neurospice.compact_models.export import DIALECTS, export

    dev = get_device(cal.device)
    folder = Path(folder)
    return [write_text_atomic(folder / CARD_FILES[d].format(d=dev.name),
                              export(dev, d, cal.params)) for d in DIALECTS]


def _fit_section(name, fit) -> list[str]:
    lines = [f"### {name}", "",
             f"{fit.model.name}: {fit.ndata} points in {len(fit.datasets)} data set(s), "
             f"{fit.nfree} free parameters, {fit.weighting} residuals; reduced chi-square "
             f"{_num(fit.redchi, 4)}, R^2 {_num(fit.r2, 5)} (per data set, with the R^2 its "
             "white noise allows at best: "
             + ", ".join(f"{d.name} {_num(r, 5)} of {_num(m, 3)}" for d, r, m in
                         zip(fit.datasets, fit.r2_per_dataset, fit.r2_limit))
             + f"); {fit.nfev} evaluations in {fit.elapsed_s:.2f} s.", "",
             "| parameter | value | std. error | unit | CI 68.27% | CI 95.45% |",
             "|---|---|---|---|---|---|"]
    for n in fit.free:
        base = n if n in fit.model.params else n.rpartition("_d")[0]
        ci = fit.ci.get(n, {})
        cis = [f"[{_num(ci[k][0], 5)}, {_num(ci[k][1], 5)}]" if k in ci else "-"
               for k in ("68.27%", "95.45%")]
        lines.append(f"| {n} | {_num(fit.value(n))} | {_num(fit.stderr.get(n), 3)} | "
                     f"{fit.model.params[base].unit or '-'} | {cis[0]} | {cis[1]} |")
    lines += ["", f"Confidence intervals: {fit.ci_method}."]
    strong = [(fit.free[i], fit.free[j], fit.correlation[i, j])
              for i in range(len(fit.free)) for j in range(i + 1, len(fit.free))
              if np.isfinite(fit.correlation[i, j]) and abs(fit.correlation[i, j]) > 0.5]
    if strong:
        lines += ["", "Correlations above 0.5: " + ", ".join(
            f"{a}/{b} {c:+.3f}" for a, b, c in strong) + "."]
    if fit.warnings:
        lines += [""] + [f"- warning: {w}" for w in fit.warnings]
    return lines + [""]


def markdown(cal: Calibration, plots: list[Path] = (), cards: list[Path] = ()) -> str:
    """The Markdown report."""
    lines = [f"# Calibration: {cal.recipe}" + (f" ({cal.device})" if cal.device else ""), ""]
    if cal.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in cal.warnings] + [""]
    if cal.device:
        lines += ["## Parameter card", "", "| parameter | value | std. error |", "|---|---|---|"]
        lines += [f"| {k} | {_num(v)} | {_num(cal.stderr.get(k), 3)} |"
                  for k, v in cal.params.items()]
        lines.append("")
    if cal.derived:
        lines += ["## Derived quantities", "",
                  "| quantity | value | std. error | unit | meaning |", "|---|---|---|---|---|"]
        lines += [f"| {k} | {_num(d['value'])} | {_num(d.get('stderr'), 3)} | "
                  f"{d.get('unit') or '-'} | {d.get('description', '')} |"
                  for k, d in cal.derived.items()]
        lines.append("")
    traces = cal.extra.get("traces")
    if traces:
        lines += ["## Field sweeps", "",
                  "| trace | B_r (mT) | +- | half width (mT) | +- | V_sym (uV) | V_asym (uV) "
                  "| peaks | R^2 | R^2 limit | resid. RMS (uV) | noise (uV) | Kittel | damping "
                  "| note |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for t in traces:
            lines.append(
                f"| {t['trace']} | {_num(t['b_res_t'] * 1e3, 5)} | "
                f"{_num(t['b_res_stderr'] and t['b_res_stderr'] * 1e3, 2)} | "
                f"{_num(t['width_t'] * 1e3, 4)} | "
                f"{_num(t['width_stderr'] and t['width_stderr'] * 1e3, 2)} | "
                f"{_num(t['v_sym'] * 1e6, 3)} | {_num(t['v_asym'] * 1e6, 3)} | {t['peaks']} | "
                f"{_num(t['r2'], 4)} | {_num(t.get('r2_limit'), 3)} | "
                f"{_num(t.get('rms_resid_v') and t['rms_resid_v'] * 1e6, 3)} | "
                f"{_num(t.get('noise_v') and t['noise_v'] * 1e6, 3)} | "
                f"{'yes' if t.get('kittel') else 'no'} | "
                f"{'yes' if t.get('damping') else 'no'} | {t['note']} |")
        lines += ["", "R^2 limit: the R^2 a curve leaving only the trace's white noise would "
                  "reach (noise: each point's deviation from the line through its neighbours); "
                  "resid. RMS: data minus fit.", ""]
    if cal.verification:
        lines += ["## Verification in the simulators", "",
                  "| simulator | data set | RMS / data range | max / data range | within 1 % "
                  "| note |", "|---|---|---|---|---|---|"]
        lines += [f"| {v.simulator} | {v.dataset} | {_num(v.rms_rel, 3)} | "
                  f"{_num(v.max_rel, 3)} | "
                  f"{'-' if v.passed is None else ('yes' if v.passed else 'NO')} | {v.note} |"
                  for v in cal.verification]
        lines.append("")
    lines += ["## Fits", ""]
    shown = [(k, f) for k, f in cal.fits.items() if not k.startswith("trace ")]
    for name, fit in shown:
        lines += _fit_section(name, fit)
    if cal.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in cal.notes] + [""]
    if cards or plots:
        lines += ["## Files", ""]
        lines += [f"- card: `{Path(c).name}`" for c in cards]
        lines += [f"- plot: `{Path(p).name}`" for p in plots]
        lines += [f"\n![{Path(p).stem}]({Path(p).name})" for p in plots]
        lines.append("")
    return "\n".join(lines)


def _panels(fit, label_of=None, points: int = 400) -> list[dict]:
    panels = []
    for k, ds in enumerate(fit.datasets):
        if ds.penalty:
            continue
        x = ds.abscissa
        if np.ndim(ds.x) == 1:
            fine = np.linspace(float(np.min(x)), float(np.max(x)), points)
            fit_y = fit.curve(k, fine)
        else:
            order = np.argsort(x)
            fine, fit_y = x[order], fit.curve(k)[order]
        panels.append({"x": x, "y": ds.y, "fit_x": fine, "fit_y": fit_y,
                       "residual": fit.residuals(k), "label": ds.name,
                       "xlabel": fit.model.x_label, "ylabel": fit.model.y_label,
                       "text": f"R^2 = {fit.r2_per_dataset[k]:.4f} "
                               f"(limit {_num(fit.r2_limit[k], 3)})"})
    return panels


def plot_calibration(cal: Calibration, folder) -> list[Path]:
    """The PNG plots of a calibration (see the module docstring)."""
    from neurospice.analysis import plots

    folder = Path(folder)
    out = []
    if cal.recipe == "spin-diode-field":
        traces = {k[len("trace "):]: f for k, f in cal.fits.items() if k.startswith("trace ")}
        panels = []
        for label, fit in traces.items():
            p = _panels(fit)[0]
            p.update(label=label, xlabel="mu0 H (T)", ylabel="V_dc (uV)")
            panels.append(p)
        out.append(plots.fit_overlay(panels, folder / "traces.png", ncols=4, yscale=1e6, dpi=60,
                                     title="rectified voltage vs field: data and fit"))
        table = cal.extra["traces"]
        kit, damp = cal.fits["kittel"], cal.fits["damping"]
        geom = cal.extra["geometry"]
        fmax = max(t["freq_hz"] for t in table)
        grid = np.linspace(0.0, fmax * 1.05, 300)[1:]
        out.append(plots.kittel_plot(
            [t["freq_hz"] for t in table], [t["b_res_t"] for t in table],
            [t["b_res_stderr"] for t in table], grid,
            kittel_field(grid, kit.values["gamma_hz_per_t"], kit.values["meff_t"], geom),
            folder / "kittel.png", width_t=[t["width_t"] for t in table],
            width_err=[t["width_stderr"] for t in table],
            fit_width_t=damp.model.eval(grid, damp.values),
            used=[t.get("kittel", False) for t in table],
            width_used=[t.get("damping", False) for t in table],
            title=f"Kittel ({geom}) and damping"))
        return out
    for name, fit in cal.fits.items():
        slug = "".join(c if c.isalnum() else "_" for c in name).strip("_").lower()
        out.append(plots.fit_overlay(_panels(fit), folder / f"fit_{slug}.png",
                                     title=f"{cal.recipe}: {name}"))
        if cal.recipe == "mtj-rv":
            curves = []
            for k, ds in enumerate(fit.datasets):
                v = np.asarray(ds.x, float)
                ok = np.abs(v) > 1e-3 * np.max(np.abs(v))
                curves.append({"x": v[ok], "y": v[ok] / ds.y[ok], "fit_x": v[ok],
                               "fit_y": v[ok] / fit.curve(k)[ok], "label": ds.name})
            out.append(plots.hysteresis_loop(curves, folder / "loop_rv.png",
                                             title="R(V) of both states: data and fit"))
    return out


def write_outputs(cal: Calibration, folder, *, plots: bool = True,
                  cards: bool = True) -> list[Path]:
    """Write the JSON, the cards, the plots and ``report.md`` into ``folder``; returns the
    paths written (the JSON first)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    json_path = write_json(cal, folder / f"{cal.device or cal.recipe}.json")
    card_paths = write_cards(cal, folder) if cards else []
    plot_paths = plot_calibration(cal, folder) if plots else []
    report = write_text_atomic(folder / "report.md", markdown(cal, plot_paths, card_paths))
    return [json_path, *card_paths, *plot_paths, report]
