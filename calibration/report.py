"""Writing a calibration out: JSON parameter set, model cards, Markdown report, PNG plots.

:func:`write_outputs` writes into one new or empty folder (each file atomically; a folder
that holds files is refused unless ``overwrite=True``, ``neurospice fit --force``):

- ``<device>.json``: ``{"device", "recipe", "params" (the whole card), "stderr", "derived",
  "verification", "warnings", "notes", "fits": {...}}``; ``read_card`` reads its ``params``;
- the cards from :func:`neurospice.compact_models.export.export`: ``<device>.ngspice.lib``,
  ``<device>.xyce.lib``, ``<device>.vacask.inc``, ``<device>.va`` (fitted values as defaults);
- ``report.md``: the card with standard errors, per-fit statistics, confidence intervals,
  correlations, warnings, verification;
- PNG plots through :mod:`neurospice.analysis.plots`: the recipe's own
  (:attr:`~.recipes.Recipe.plots`: the R(V) loop of MTJ sweeps, the Kittel and damping plot
  of field sweeps, ...) or data vs fit with residuals for every fit (:func:`fit_plots`).

What a recipe adds (tables, plots) and which fits it writes up, the report asks the recipe
(:class:`~.recipes.Recipe`); a calibration whose recipe is not registered is written with
the defaults.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from neurospice.fileio import check_folder, write_text_atomic

from .recipes.base import RECIPES, Calibration

__all__ = ["write_outputs", "write_json", "write_cards", "markdown", "plot_calibration",
           "fit_plots", "fit_panels", "num"]

CARD_FILES = {"ngspice": "{d}.ngspice.lib", "xyce": "{d}.xyce.lib",
              "vacask": "{d}.vacask.inc", "verilog-a": "{d}.va"}


def num(v, digits=6) -> str:
    """A number for a table: ``digits`` significant digits, "-" for None or non-finite."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}g}"


def interval(lo, hi, digits: int = 3) -> str:
    """``[lo, hi]`` with enough significant digits that the two ends differ in their last
    ``digits`` shown (``[4.43629e+09, 4.43634e+09]``, never ``[4.4363e+09, 4.4363e+09]``)."""
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"[{num(lo)}, {num(hi)}]"
    width, size = abs(hi - lo), max(abs(lo), abs(hi))
    need = digits if width == 0 or size == 0 else \
        max(digits, math.ceil(math.log10(size / width)) + digits)
    need = min(need, 17)
    return f"[{lo:.{need}g}, {hi:.{need}g}]"


def r_squared(r) -> str:
    """R^2 as text: near 1, as ``1 - 3.2e-07`` (never a bare ``1``)."""
    if r is None or not math.isfinite(float(r)):
        return "-"
    r = float(r)
    if r > 0.9999 and r < 1:
        return f"1 - {1 - r:.2g}"
    return f"{r:.5g}" if r <= 0.9999 else "1"


def json_ready(o):
    """``o`` with numpy scalars as Python numbers and non-finite numbers as None, so that
    ``json.dumps`` writes standard JSON (no ``NaN`` tokens) for any reader."""
    if isinstance(o, dict):
        return {str(k): json_ready(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_ready(v) for v in o]
    if isinstance(o, (np.floating, float)):
        return float(o) if math.isfinite(o) else None
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return o


def write_json(cal: Calibration, path, *, overwrite: bool = False) -> Path:
    """The calibration as JSON (non-finite numbers as null); an existing file is replaced only
    with ``overwrite`` (else OutputExists)."""
    return write_text_atomic(path, json.dumps(json_ready(cal.to_dict()), indent=1) + "\n",
                             overwrite=overwrite)


def write_cards(cal: Calibration, folder, *, overwrite: bool = False) -> list[Path]:
    """The fitted card in every dialect (nothing when the recipe has no device); existing
    files are replaced only with ``overwrite`` (else OutputExists)."""
    if cal.device is None:
        return []
    from neurospice.compact_models.export import DIALECTS, export

    recipe = RECIPES.get(cal.recipe)
    if recipe is not None and recipe.device == cal.device:
        dev = recipe.get_device(cal)
    else:
        from neurospice.compact_models.devices import get_device

        dev = get_device(cal.device)
    folder = Path(folder)
    return [write_text_atomic(folder / CARD_FILES[d].format(d=dev.name),
                              export(dev, d, cal.params), overwrite=overwrite)
            for d in DIALECTS]


def _fit_section(name, fit) -> list[str]:
    lines = [f"### {name}", "",
             f"{fit.model.name}: {fit.ndata} points in {len(fit.datasets)} data set(s), "
             f"{fit.nfree} free parameters, {fit.weighting} residuals; reduced chi-square "
             f"{num(fit.redchi, 4)}, R^2 {r_squared(fit.r2)} (per data set, with the "
             "highest R^2 its white noise would allow: "
             + ", ".join(f"{d.name}: {r_squared(r)}, limit {r_squared(m)}" for d, r, m in
                         zip(fit.datasets, fit.r2_per_dataset, fit.r2_limit))
             + f"); {fit.nfev} evaluations in {fit.elapsed_s:.2f} s.", "",
             "| parameter | value | std. error | unit | CI 68.27% | CI 95.45% |",
             "|---|---|---|---|---|---|"]
    for n in fit.free:
        base = n if n in fit.model.params else n.rpartition("_d")[0]
        ci = fit.ci.get(n, {})
        cis = [interval(*ci[k]) if k in ci else "-" for k in ("68.27%", "95.45%")]
        lines.append(f"| {n} | {num(fit.value(n))} | {num(fit.stderr.get(n), 3)} | "
                     f"{fit.model.params[base].unit or '-'} | {cis[0]} | {cis[1]} |")
    lines += ["", f"Standard errors {fit.stderr_reason}. Confidence intervals: "
              f"{fit.ci_method}."]
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
        lines += [f"| {k} | {num(v)} | {num(cal.stderr.get(k), 3)} |"
                  for k, v in cal.params.items()]
        lines.append("")
    if cal.derived:
        lines += ["## Derived quantities", "",
                  "| quantity | value | std. error | unit | meaning |", "|---|---|---|---|---|"]
        lines += [f"| {k} | {num(d['value'])} | {num(d.get('stderr'), 3)} | "
                  f"{d.get('unit') or '-'} | {d.get('description', '')} |"
                  for k, d in cal.derived.items()]
        lines.append("")
    recipe = RECIPES.get(cal.recipe)
    if recipe is not None and recipe.sections is not None:
        lines += recipe.sections(cal)
    if cal.verification:
        lines += ["## Verification in the simulators", "",
                  "| simulator | data set | RMS / data range | max / data range | passed "
                  "| note |", "|---|---|---|---|---|---|"]
        lines += [f"| {v.simulator} | {v.dataset} | {num(v.rms_rel, 3)} | "
                  f"{num(v.max_rel, 3)} | "
                  f"{'-' if v.passed is None else ('yes' if v.passed else 'NO')} | {v.note} |"
                  for v in cal.verification]
        lines.append("")
    lines += ["## Fits", ""]
    for name, fit in cal.shown_fits().items():
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


def fit_panels(fit, points: int = 400) -> list[dict]:
    """One plot panel per data set of ``fit`` (penalties left out): data, the fitted curve
    on ``points`` abscissae, residuals, labels."""
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
                               f"(limit {num(fit.r2_limit[k], 3)})"})
    return panels


def fit_plots(cal: Calibration, folder) -> list[Path]:
    """Data vs fit with residuals, one PNG per fit the recipe shows."""
    from neurospice.analysis import plots

    out = []
    for name, fit in cal.shown_fits().items():
        slug = "".join(c if c.isalnum() else "_" for c in name).strip("_").lower()
        out.append(plots.fit_overlay(fit_panels(fit), Path(folder) / f"fit_{slug}.png",
                                     title=f"{cal.recipe}: {name}"))
    return out


def plot_calibration(cal: Calibration, folder) -> list[Path]:
    """The PNG plots of a calibration: the recipe's own, else :func:`fit_plots`."""
    recipe = RECIPES.get(cal.recipe)
    if recipe is not None and recipe.plots is not None:
        return list(recipe.plots(cal, Path(folder)))
    return fit_plots(cal, folder)


def write_outputs(cal: Calibration, folder, *, plots: bool = True, cards: bool = True,
                  overwrite: bool = False) -> list[Path]:
    """Write the JSON, the cards, the plots and ``report.md`` into ``folder``; returns the
    paths written (the JSON first).

    ``folder`` is created if needed; one that exists and is not empty raises OutputExists
    (nothing written) unless ``overwrite``, which replaces the files of the same names and
    leaves the others. A folder or file that cannot be written raises OutputError."""
    folder = check_folder(folder, overwrite=overwrite)
    json_path = write_json(cal, folder / f"{cal.device or cal.recipe}.json", overwrite=True)
    # the plots before the cards: in a plots.background() block they are drawn meanwhile
    plot_paths = plot_calibration(cal, folder) if plots else []
    card_paths = write_cards(cal, folder, overwrite=True) if cards else []
    report = write_text_atomic(folder / "report.md", markdown(cal, plot_paths, card_paths),
                               overwrite=True)
    return [json_path, *card_paths, *plot_paths, report]
