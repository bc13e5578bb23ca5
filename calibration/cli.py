"""``neurospice fit MODEL DATA... [--recipe NAME] [--free p1,p2] [--out DIR]``.

:func:`add_parser` registers the subcommand on the main parser's subparsers; the handler
raises DataError/CalibrationError (the main CLI prints them once and exits non-zero).
"""

from __future__ import annotations

from pathlib import Path

from neurospice.errors import CalibrationError

__all__ = ["add_parser", "run_fit"]


def add_parser(subparsers):
    """Register ``fit`` on ``subparsers`` (from ``ArgumentParser.add_subparsers``)."""
    from .recipes import DEFAULT_RECIPE, RECIPES

    s = subparsers.add_parser(
        "fit", help="calibrate a compact model on measured data: report, cards, plots",
        description="Fit a device's compact model to measured files with a recipe, and write "
                    "the JSON parameter set, model cards (ngspice, Xyce, VACASK, Verilog-A), "
                    "a Markdown report and PNG plots.")
    s.add_argument("model", choices=sorted(DEFAULT_RECIPE), help="device name")
    s.add_argument("data", nargs="+", help="measured data file(s)")
    s.add_argument("--recipe", choices=sorted(RECIPES),
                   help="default: " + ", ".join(f"{k}: {v}" for k, v in
                                                sorted(DEFAULT_RECIPE.items())))
    s.add_argument("--free", help="comma-separated parameters to fit (default: the recipe's)")
    s.add_argument("--out", default="out/fit", help="output folder (default out/fit)")
    s.add_argument("--seed", type=int, default=0, help="seed of the global stage (default 0)")
    s.add_argument("--global", dest="global_stage", choices=["de", "basinhopping", "none"],
                   default="de", help="global stage before least squares: differential "
                                      "evolution (default), basin hopping, or none")
    s.add_argument("--no-verify", action="store_true",
                   help="skip re-simulating the card in ngspice/VACASK (MTJ)")
    s.add_argument("--power", type=float, help="RF power (W) for spin-diode spectra without "
                                               "a power column")
    s.add_argument("--geometry", choices=["in-plane", "out-of-plane", "auto"],
                   default="in-plane", help="field geometry of spin-diode field sweeps")
    s.add_argument("--drop-first", type=_count, default=0, metavar="N",
                   help="samples left out at the start of every spin-diode field sweep "
                        "(an instrument not yet settled; default 0)")
    s.add_argument("--t-amb", type=float, default=300.0,
                   help="stage temperature in K of an nbox dual sweep (default 300)")
    s.add_argument("--quiet", action="store_true", help="no progress line")
    s.set_defaults(func=run_fit)
    return s


def _count(text: str) -> int:
    import argparse

    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a count (0, 1, 2, ...), got {text!r}")
    return n


def run_fit(args) -> int:
    from .recipes import DEFAULT_RECIPE, get_recipe
    from .report import write_outputs

    recipe = get_recipe(args.recipe or DEFAULT_RECIPE[args.model])
    if recipe.device != args.model:
        raise CalibrationError(f"recipe {recipe.name} fits {recipe.device}, not {args.model}")
    data = []
    for path in args.data:
        if not Path(path).is_file():
            raise CalibrationError(f"no such data file: {path}")
        data += recipe.load(path)
    kw = {"progress": not args.quiet}
    if args.free:
        if not recipe.free:
            raise CalibrationError(f"recipe {recipe.name} has no --free choice")
        kw["free"] = [p.strip() for p in args.free.split(",") if p.strip()]
        unknown = sorted(set(kw["free"]) - set(_known(recipe)))
        if unknown:
            raise CalibrationError(f"--free: unknown parameter(s) {unknown} for "
                                   f"{recipe.name} (known: {', '.join(_known(recipe))})")
    if recipe.name == "nbox-iv":
        kw["t_amb"] = args.t_amb
    if recipe.name in ("mtj-rv", "spin-diode-spectrum", "stno", "nbox-iv"):
        kw["seed"] = args.seed
        kw["global_stage"] = None if args.global_stage == "none" else args.global_stage
        kw["conf_int"] = "auto"
    if recipe.name == "mtj-rv":
        kw["verify"] = not args.no_verify
    if recipe.name == "spin-diode-spectrum" and args.power is not None:
        kw["power_w"] = args.power
    if recipe.name == "spin-diode-field":
        kw["geometry"] = args.geometry
        kw["drop_first"] = args.drop_first
    elif args.drop_first:
        raise CalibrationError("--drop-first applies to the spin-diode-field recipe only")
    cal = recipe.run(data, **kw)
    paths = write_outputs(cal, args.out)
    for fit_name, fit in cal.fits.items():
        if not fit_name.startswith("trace "):
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


def _known(recipe) -> list[str]:
    from .recipe_nbox import nbox_iv_model
    from .recipes import mtj_model, spin_diode_spectrum_model, stno_model

    model = {"mtj-rv": mtj_model, "spin-diode-spectrum": spin_diode_spectrum_model,
             "stno": stno_model, "nbox-iv": nbox_iv_model}[recipe.name]()
    return list(model.params)
