"""``neurospice fit MODEL DATA... [--recipe NAME] [--free p1,p2] [--out DIR]``.

:func:`add_parser` registers the subcommand on the main parser's subparsers, with the options
every recipe takes and those the registered recipes add (:attr:`Recipe.options`); the handler
asks the chosen recipe for its loader, its keyword arguments and its free parameters, and
raises DataError/CalibrationError (the main CLI prints them once and exits non-zero).
"""

from __future__ import annotations

from pathlib import Path

from neurospice.errors import CalibrationError, DataError

__all__ = ["add_parser", "run_fit"]


def add_parser(subparsers):
    """Register ``fit`` on ``subparsers`` (from ``ArgumentParser.add_subparsers``)."""
    from .recipes import RECIPES

    recipes = list(RECIPES.values())
    devices = sorted({r.device for r in recipes})
    defaults = {r.device: r.name for r in recipes if r.default}
    s = subparsers.add_parser(
        "fit", help="calibrate a compact model on measured data: report, cards, plots",
        description="Fit a device's compact model to measured files with a recipe, and write "
                    "the JSON parameter set, model cards (ngspice, Xyce, VACASK, Verilog-A), "
                    "a Markdown report and PNG plots.")
    s.add_argument("model", choices=devices, help="device name")
    s.add_argument("data", nargs="+", help="measured data file(s)")
    s.add_argument("--recipe", choices=sorted(RECIPES),
                   help="default: " + ", ".join(f"{k}: {v}" for k, v in sorted(defaults.items())))
    s.add_argument("--free", help="comma-separated parameters to fit (default: the recipe's)")
    s.add_argument("--out", default="out/fit", help="output folder (default out/fit); one "
                                                      "that holds files needs --force")
    s.add_argument("--force", action="store_true",
                   help="write into a folder that holds files (those of the same names are "
                        "replaced; a data file in it is never written over)")
    s.add_argument("--seed", type=int, default=0, help="seed of the global stage (default 0)")
    s.add_argument("--global", dest="global_stage", choices=["de", "basinhopping", "none"],
                   default="de", help="global stage before least squares: differential "
                                      "evolution (default), basin hopping, or none")
    s.add_argument("--quiet", action="store_true", help="no progress line")
    added = set()
    for r in recipes:
        for opt in r.options:
            if opt.flags not in added:
                added.add(opt.flags)
                s.add_argument(*opt.flags, **opt.kwargs)
    s.set_defaults(func=run_fit)
    return s


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
    if not 0 <= args.seed < 2 ** 32:
        from neurospice.errors import ArgumentError

        raise ArgumentError(f"--seed must be in [0, 2**32), got {args.seed}")
    _check_out(Path(args.out), args.data, args.force)
    from neurospice.fileio import output_folder

    with output_folder(args.out, overwrite=True):     # checked above; made before the fit
        return _fit_and_write(args, recipe)


def _fit_and_write(args, recipe) -> int:
    from .report import write_outputs

    data = []
    for path in args.data:
        if not Path(path).exists():
            raise DataError("no such data file", path=path)
        if not Path(path).is_file():
            raise DataError("not a regular file", path=path)
        data += recipe.load(path)
    kw = {"progress": not args.quiet}
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
    cal = recipe.run(data, **kw)
    paths = write_outputs(cal, args.out, overwrite=args.force)
    for fit in cal.shown_fits().values():
        print(fit.summary())
    for v in cal.verification:
        print(f"verify {v.simulator} {v.dataset}: "
              + (f"RMS {v.rms_rel:.2e} of the data range" if v.rms_rel is not None else v.note))
    for w in cal.warnings:
        print(f"warning: {w}")
    print(f"wrote {len(paths)} files to {args.out} (report: {paths[-1]})")
    failed = [v for v in cal.verification if v.passed is False]
    if failed:
        raise CalibrationError("the fitted card does not reproduce the numpy curve in "
                               + ", ".join(sorted({v.simulator for v in failed}))
                               + " (see the report)")
    return 0
