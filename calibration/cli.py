"""``neurospice fit MODEL DATA... [--recipe NAME] [--free p1,p2] [--out DIR]``.

:func:`add_parser` registers the subcommand on the main parser's subparsers, with the options
every recipe takes and those the registered recipes add (:attr:`Recipe.options`); the handler
asks the chosen recipe for its loader, its keyword arguments and its free parameters, and
raises DataError/CalibrationError (the main CLI prints them once and exits non-zero).
"""

from __future__ import annotations

from pathlib import Path

from neurospice.errors import CalibrationError, DataError

__all__ = ["add_parser", "run_fit", "load_options", "data_paths", "data_notes", "SUMMARY"]

SUMMARY = "calibrate a compact model on measured data: report, cards, plots"
"""The one-line help of ``neurospice fit`` (``neurospice --help`` lists it)."""


def add_parser(subparsers, summary: str = SUMMARY):
    """Register ``fit`` on ``subparsers`` (from ``ArgumentParser.add_subparsers``), with
    ``summary`` as its one-line help."""
    from .recipes import RECIPES

    recipes = list(RECIPES.values())
    devices = sorted({r.device for r in recipes})
    defaults = {r.device: r.name for r in recipes if r.default}
    s = subparsers.add_parser(
        "fit", help=summary,
        description="Fit a device's compact model to measured files with a recipe, and write "
                    "the JSON parameter set, model cards (ngspice, Xyce, VACASK, Verilog-A), "
                    "a Markdown report and PNG plots.")
    s.add_argument("model", choices=devices, help="device name")
    s.add_argument("data", nargs="+", help="measured data file(s); a pattern such as "
                                           "'loops/*.csv' is expanded (sorted) when the shell "
                                           "has not")
    s.add_argument("--recipe", choices=sorted(RECIPES),
                   help="default: " + ", ".join(f"{k}: {v}" for k, v in sorted(defaults.items())))
    s.add_argument("--free", help="comma-separated parameters to fit (default: the recipe's)")
    s.add_argument("--out", default="out/fit", help="output folder (default out/fit); one "
                                                      "that holds files needs --force")
    s.add_argument("--force", action="store_true",
                   help="write into a folder that holds files (those of the same names are "
                        "replaced; a data file in it is never written over)")
    s.add_argument("--seed", type=int, default=0, help="seed of the global stage (default 0)")
    s.add_argument("--global", dest="global_stage",
                   choices=["auto", "de", "basinhopping", "none"], default="auto",
                   help="global stage before least squares: auto (default: differential "
                        "evolution only when the least-squares fit from the recipe's start "
                        "does not reach the data's noise or leaves a parameter at a bound), "
                        "de (always), basin hopping, or none")
    s.add_argument("--quiet", action="store_true", help="no progress line")
    s.add_argument("--ensemble", action="store_true",
                   help="fit every loaded curve together (loops, cycles, devices): per-curve "
                        "table, mean/std/correlation of the parameters and figures "
                        "(ensemble.md, ensemble.json) and variability_card.json for "
                        "draw_params")
    _add_data_options(s)
    added = set()
    for r in recipes:
        for opt in r.options:
            if opt.flags not in added:
                added.add(opt.flags)
                s.add_argument(*opt.flags, **opt.kwargs)
    s.set_defaults(func=run_fit, quick_exit=True)   # see neurospice.cli.main
    return s


def _add_data_options(s) -> None:
    """How the data files are read: one flag per option of the loaders
    (:func:`~neurospice.calibration.data.load_iv` and its siblings)."""
    g = s.add_argument_group("reading the data files (every loader option)")
    g.add_argument("--column", action="append", default=[], metavar="ROLE=NAME",
                   help="map a column: voltage=, current=, freq=, vdc=, power=, field=, "
                        "linewidth=, time=, compliance=, rf_current=, impedance=, ... "
                        "and a quantity's errors: freq_err=, current_err=, power_err=, ... "
                        "(repeatable; a role given twice lists side-by-side curves)")
    g.add_argument("--group-by", action="append", default=[], metavar="COLUMN",
                   help="one curve per value of this column (repeatable: per combination)")
    g.add_argument("--split", choices=["auto", "columns", "sweep_column", "reversal",
                                       "blocks"],
                   help="how one file holds several curves (default: the recipe's choice)")
    g.add_argument("--sheet", help="spreadsheet sheet: name or 1-based position (default "
                                   "the first)")
    g.add_argument("--header-row", type=int, metavar="LINE",
                   help="1-based line of the header (default: found)")
    g.add_argument("--skip-header", type=int, metavar="N",
                   help="the header is the first non-blank line after N lines")
    g.add_argument("--delimiter", help="cell delimiter: ',', ';', 'tab' or 'space' (default: "
                                       "found)")
    g.add_argument("--decimal", choices=[".", ","],
                   help="decimal mark (default: found; a comma when number cells hold one and "
                        "none a point)")
    g.add_argument("--names", metavar="'NAME (UNIT),...'",
                   help="the columns' names and units of a file without a header row, "
                        "comma-separated, e.g. --names 'V (V),I (A)'")
    g.add_argument("--unit", action="append", default=[], metavar="COLUMN=UNIT",
                   help="the unit of a column whose header writes none or one not known, "
                        "e.g. --unit 'Vdc=uV' (repeatable)")
    g.add_argument("--on-nan", choices=["raise", "drop"],
                   help="a row with an empty, NaN or inf cell: raise (default) or drop it "
                        "(listed in the report)")
    g.add_argument("--min-points", type=int, metavar="N",
                   help="fewest points a curve may have (default 3)")
    g.add_argument("--compliance", type=float, metavar="AMPS",
                   help="the source's current limit (A) for I-V files without a compliance "
                        "column: points at it are marked as limited")
    g.add_argument("--impedance", type=float, metavar="OHM",
                   help="impedance (Ohm) turning an RF current column into RF power")


def _pairs(items, flag: str, form: str, example: str, last: bool = False):
    """``KEY=VALUE`` items of a repeatable flag as (key, value) pairs; ``last``: split at
    the last ``=`` (a column name may hold one, a unit does not)."""
    from neurospice.errors import ArgumentError

    for item in items or []:
        key, eq, value = item.rpartition("=") if last else item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise ArgumentError(f"{flag} takes {form} (e.g. {example}), got {item!r}")
        yield key.strip(), value.strip()


def load_options(args) -> dict:
    """The loader keyword arguments the command line gave (only those given)."""
    out: dict = {}
    columns: dict = {}
    for role, name in _pairs(getattr(args, "column", None), "--column", "ROLE=NAME",
                             "voltage='V (mV)'"):
        columns.setdefault(role, []).append(name)
    if columns:
        out["columns"] = {k: v[0] if len(v) == 1 else v for k, v in columns.items()}
    units = dict(_pairs(getattr(args, "unit", None), "--unit", "COLUMN=UNIT",
                        "--unit 'Vdc=uV'", last=True))
    if units:
        out["units"] = units
    if getattr(args, "group_by", None):
        out["group_by"] = args.group_by[0] if len(args.group_by) == 1 else list(args.group_by)
    delim = getattr(args, "delimiter", None)
    if delim is not None:
        out["delimiter"] = {"tab": "\t", "\\t": "\t", "space": " "}.get(delim, delim)
    for flag in ("split", "sheet", "header_row", "skip_header", "decimal", "on_nan",
                 "min_points", "compliance", "impedance", "names"):
        value = getattr(args, flag, None)
        if value is not None:
            out[flag] = value
    return out


def data_paths(given) -> list[str]:
    """The data files named on the command line, a pattern (``loops/*.csv``, ``run?.txt``,
    ``[ab].csv``) that names no file as written expanded to the files it matches, sorted (the
    shell does it on Unix, not on Windows or inside quotes); a pattern matching nothing is
    a DataError."""
    import glob

    out: list[str] = []
    for path in given:
        if not Path(path).exists() and glob.has_magic(path):
            matches = sorted(p for p in glob.glob(path) if Path(p).is_file())
            if not matches:
                raise DataError("no file matches the pattern", path=path)
            out += matches
        else:
            out.append(path)
    return out


def data_notes(data, shown: int = 20) -> list[str]:
    """What the loaders left out or assumed, for the report: each file's notes (a decimal
    comma found, a units row, the sheet read, ...) and every row dropped (``--on-nan drop``)
    with its line and why, consecutive lines dropped for one reason as a range (the first
    ``shown`` ranges per file listed, then a count)."""
    out: list[str] = []
    seen: set[int] = set()
    for item in data:
        report, source = getattr(item, "report", None), getattr(item, "source", None)
        if report is None or id(report) in seen:
            continue
        seen.add(id(report))
        name = Path(source).name if source is not None else "data"
        out += [f"{name}: {note}" for note in report.notes]
        runs: list[list] = []                     # consecutive lines left out for one reason
        for d in report.dropped:
            if runs and runs[-1][1] == d.line - 1 and runs[-1][2:] == [d.column, d.value]:
                runs[-1][1] = d.line
            else:
                runs.append([d.line, d.line, d.column, d.value])
        for first, last, column, why in runs[:shown]:
            lines = f"line {first}" if first == last else f"lines {first}-{last}"
            out.append(f"{name}: {lines} left out ({column}: {why})")
        if len(runs) > shown:
            rest = sum(r[1] - r[0] + 1 for r in runs[shown:])
            out.append(f"{name}: {rest} more line(s) left out ({len(report.dropped)} in all)")
    return out


def _check_out(out: Path, inputs, force: bool) -> None:
    """Before the fit runs: the output folder is usable (new or empty, or ``--force``) and
    holds none of the data files (with --force they could be written over)."""
    from neurospice.errors import OutputError, OutputExists

    if out.exists() and not out.is_dir():
        raise OutputError("is not a folder", path=out)
    if not out.is_dir():
        return
    for path in inputs:
        try:
            inside = Path(path).is_file() and Path(path).parent.samefile(out)
        except OSError:
            inside = False
        if inside:
            raise OutputError(f"holds the data file {path}; choose another output folder",
                              path=out)
    try:
        full = any(out.iterdir())
    except OSError as exc:
        raise OutputError(f"cannot read the output folder: {exc.strerror}", path=out) from None
    if not force and full:
        raise OutputExists("the output folder is not empty; pass --force to write over its "
                           "files", path=out)


def run_fit(args) -> int:
    from .recipes import RECIPES, default_recipe, get_recipe

    recipe = get_recipe(args.recipe) if args.recipe else default_recipe(args.model)
    if recipe.device != args.model:
        raise CalibrationError(f"recipe {recipe.name} fits {recipe.device}, not {args.model}")
    mine = {o.flags for o in recipe.options}
    for other in RECIPES.values():
        for opt in other.options:
            if opt.flags in mine:
                continue
            given = getattr(args, opt.dest, None)
            if given not in (None, False, opt.kwargs.get("default")):
                owners = sorted(r.name for r in RECIPES.values() if opt.flags in
                                {o.flags for o in r.options})
                raise CalibrationError(f"{opt.flags[0]} applies to the {', '.join(owners)} "
                                       "recipe only")
    if getattr(args, "ensemble", False) and recipe.ensemble is None:
        offered = sorted(r.name for r in RECIPES.values() if r.ensemble is not None)
        raise CalibrationError(f"the {recipe.name} recipe has no --ensemble fit (offered by: "
                               f"{', '.join(offered) or 'none'})")
    if not 0 <= args.seed < 2 ** 32:
        from neurospice.errors import ArgumentError

        raise ArgumentError(f"--seed must be in [0, 2**32), got {args.seed}")
    return _fit_and_write(args, recipe)


def _fit_and_write(args, recipe) -> int:
    from .table import command_line_spelling

    with command_line_spelling():
        return _fit_and_write_here(args, recipe)


def _fit_and_write_here(args, recipe) -> int:
    import inspect

    from .report import write_outputs

    options = load_options(args)
    if options:
        takes = inspect.signature(recipe.load).parameters.values()
        if not any(p.kind is p.VAR_KEYWORD for p in takes):
            flags = ", ".join("--" + k.replace("_", "-") for k in options)
            raise CalibrationError(f"the {recipe.name} recipe reads its own file layout: "
                                   f"{flags} do(es) not apply")
    args.data = data_paths(args.data)
    data = []
    for path in args.data:
        if not Path(path).exists():
            raise DataError("no such data file", path=path)
        if not Path(path).is_file():
            raise DataError("not a regular file", path=path)
        data += recipe.load(path, **options)
    if getattr(args, "ensemble", False):
        return _ensemble_and_write(args, recipe, data)
    from neurospice.progress import wanted

    # a bar on a terminal (or as NEUROSPICE_PROGRESS says), none into a file or pipe
    kw = {"progress": not args.quiet and wanted()}
    if args.free:
        if recipe.model is None:
            raise CalibrationError(f"recipe {recipe.name} has no --free choice")
        known = list(recipe.model().params)
        kw["free"] = [p.strip() for p in args.free.split(",") if p.strip()]
        unknown = sorted(set(kw["free"]) - set(known))
        if unknown:
            raise CalibrationError(f"--free: unknown parameter(s) {unknown} for "
                                   f"{recipe.name} (known: {', '.join(known)})")
    if recipe.cli_kwargs is not None:
        kw.update(recipe.cli_kwargs(args))
    import contextlib

    from neurospice.analysis import plots
    from neurospice.fileio import output_folder

    _check_out(Path(args.out), args.data, args.force)   # arguments and data first, then this
    # Run as a program (nothing imported yet), the plots are drawn by a child process that
    # imports matplotlib while this one imports lmfit and fits (two cores: ~0.6 s less).
    # Called by a program (a test, a script: main(argv)), they are drawn here, as a child
    # per call would import matplotlib each time again.
    own_process = getattr(args, "own_process", False)
    drawing = plots.background() if own_process else contextlib.nullcontext()
    with output_folder(args.out, overwrite=True), drawing:
        if own_process:
            from .fit import import_lmfit

            import_lmfit(keep_out=("pandas", "matplotlib"))   # nothing else runs here
        cal = recipe.run(data, **kw)
        cal.notes[:0] = data_notes(data)
        paths = write_outputs(cal, args.out, overwrite=args.force)
    for fit in cal.shown_fits().values():
        print(fit.summary())
    for v in cal.verification:
        print(f"verify {v.simulator} {v.dataset}: "
              + (f"RMS {v.rms_rel:.2e} of the data range" if v.rms_rel is not None else v.note))
    for w in cal.warnings:
        print(f"warning: {w}")
    left_out = sum(len(r.dropped) for r in {id(getattr(d, "report", None)): d.report
                                            for d in data if getattr(d, "report", None)
                                            is not None}.values())
    if left_out:
        print(f"data: {left_out} row(s) left out (listed in the report's notes)")
    print(f"wrote {len(paths)} files to {args.out} (report: {paths[-1]})")
    failed = [v for v in cal.verification if v.passed is False]
    if failed:
        raise CalibrationError("the fitted card does not reproduce the fit in "
                               + ", ".join(sorted({v.simulator for v in failed}))
                               + " (see the report)")
    return 0


def _ensemble_and_write(args, recipe, data) -> int:
    """``--ensemble``: every loaded curve in one :func:`~.ensemble.fit_ensemble` call as the
    recipe's :class:`~.recipes.base.EnsembleRecipe` describes it; writes ``ensemble.json``
    (statistics and per-curve rows), ``variability_card.json`` and ``ensemble.md`` into
    ``--out`` (a folder holding files needs --force)."""
    import json

    from neurospice.fileio import output_folder, write_text_atomic

    from .ensemble import fit_ensemble, markdown
    from .report import json_ready

    spec = recipe.ensemble
    model = spec.model()
    datasets = spec.curves(data)
    per_curve = list(spec.per_curve) if spec.per_curve is not None else None
    if args.free:
        per_curve = [p.strip() for p in args.free.split(",") if p.strip()]
        unknown = sorted(set(per_curve) - set(model.params))
        if unknown:
            raise CalibrationError(f"--free: unknown parameter(s) {unknown} for "
                                   f"{recipe.name} (known: {', '.join(model.params)})")
        per_curve = [p for p in per_curve if p not in spec.shared]
    out = Path(args.out)
    _check_out(out, args.data, args.force)            # before the fit, as for a recipe
    start_warnings: list[str] = []
    fit = fit_ensemble(model, datasets, shared=spec.shared, per_curve=per_curve,
                       values=spec.start(datasets, start_warnings) if spec.start else None,
                       bounds=spec.bounds(datasets) if spec.bounds else None,
                       weighting=spec.weighting, figures=spec.figures)
    fit.warnings[:0] = start_warnings
    source = f"neurospice fit {recipe.device} --recipe {recipe.name} --ensemble: " + \
        ", ".join(Path(p).name for p in args.data)
    card = fit.variability_card(recipe.device, spec.card, lognormal=spec.lognormal,
                                seed=args.seed, source=source)
    with output_folder(out, overwrite=True):
        payload = {"recipe": recipe.name, "device": recipe.device, "model": model.name,
                   "summary": fit.summary(), "per_curve": fit.per_curve()}
        paths = [write_text_atomic(out / "ensemble.json",
                                   json.dumps(json_ready(payload), indent=1, allow_nan=False)
                                   + "\n", overwrite=True),
                 card.write(out / "variability_card.json", overwrite=True)]
        paths.append(write_text_atomic(
            out / "ensemble.md",
            markdown(fit, f"{recipe.name}: ensemble of {fit.n} curves", card=card,
                     card_file="variability_card.json"), overwrite=True))
    summary = fit.summary()["params"]
    for k, v in summary.items():
        print(f"{k}: mean {v['mean']:.6g} ± {v['mean_stderr']:.2g}, std {v['std']:.4g} "
              f"± {v['std_stderr']:.2g} over {fit.n} curves")
    for w in fit.warnings:
        print(f"warning: {w}")
    print(f"wrote {len(paths)} files to {args.out} (report: {paths[-1]})")
    return 0
