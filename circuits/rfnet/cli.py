"""``neurospice rfnet``: train an RF network, evaluate it, export its netlists.

    neurospice rfnet train DATA --layers 256,128,10 --out DIR
    neurospice rfnet eval DIR DATA [--level envelope|netlist|rf] [--workers N]
    neurospice rfnet export DIR --level envelope|netlist|rf --dialect ngspice|xyce|vacask

DATA is a spectra file (HDF5/CSV, see :mod:`.data`) or ``synthetic:TASK`` (xor, band,
circles, moons). DIR receives ``network.json`` (the description, reloadable),
``devices.json`` (the device parameters) and ``training.json`` (history and accuracies).
Progress goes to stderr; results to stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path


SUMMARY = "RF-coupled MTJ networks: train, evaluate, export"
"""The one-line help of ``neurospice rfnet`` (``neurospice --help`` lists it)."""

LEVELS = ("envelope", "netlist", "rf")
"""The levels of ``rfnet eval`` and ``rfnet export``: the numpy envelope model, its netlist
(an operating point), the RF transient netlist."""


def load_data(spec: str, seed: int = 0):
    from neurospice.circuits.rfnet.data import TASKS, load_spectra, synthetic

    if spec.startswith("synthetic:") or spec in TASKS:
        return synthetic(spec.split(":", 1)[-1], seed=seed)
    return load_spectra(spec)


def add_parser(subparsers, summary: str = SUMMARY) -> None:
    """Register ``rfnet`` (one-line help ``summary``) and its sub-commands on an argparse
    ``subparsers`` object; each sub-parser sets ``func`` (called with the parsed args; returns
    the exit status)."""
    from neurospice.netlists.dialects import NETLIST_DIALECTS

    p = subparsers.add_parser("rfnet", help=summary)
    sub = p.add_subparsers(dest="rfnet_command", required=True)

    t = sub.add_parser("train", help="train on the envelope model (Adam, numpy)")
    t.add_argument("data", help="HDF5/CSV spectra file, or synthetic:xor|band|circles|moons")
    t.add_argument("--layers", required=True, help="sizes, e.g. 256,128,10 (inputs first)")
    t.add_argument("--out", required=True, type=Path,
                   help="output folder: new or empty (else --force)")
    t.add_argument("--force", action="store_true",
                   help="write into a folder that holds files (network.json, devices.json and "
                        "training.json there are replaced)")
    t.add_argument("--epochs", type=int, default=100)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--lr-shift", type=float, default=0.02, help="Adam step, linewidths")
    t.add_argument("--lr-bias", type=float, default=2e-5, help="Adam step, V")
    t.add_argument("--lr-gain", type=float, default=0.05,
                   help="Adam step of the hidden chains' voltage gains (natural log); 0 keeps "
                        "them at 1")
    t.add_argument("--band", type=int, default=None,
                   help="tones each resonator rectifies on either side (default: all)")
    t.add_argument("--spread", type=float, default=0.0, help="non-idealities, e.g. 0.01")
    t.add_argument("--restarts", type=int, default=1)
    t.add_argument("--input-noise", type=float, default=None,
                   help="noise added to each batch's input powers, a fraction of the largest "
                        "training power (0 for none; default: fit's, 0.045)")
    t.add_argument("--logit-scale", type=float, default=None,
                   help="loss scale, logits per volt of score (default: fit's, 3 per mV)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--f-min", type=float, default=2e9, help="lowest input tone (Hz)")
    t.add_argument("--f-max", type=float, default=12e9, help="highest input tone (Hz)")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="accuracy of a trained network")
    e.add_argument("dir", type=Path)
    e.add_argument("data")
    e.add_argument("--level", choices=LEVELS, default="envelope",
                   help="envelope: the numpy model; netlist: the envelope netlist's operating "
                        "point; rf: the RF transient netlist (small networks)")
    e.add_argument("--workers", type=int, default=2, help="parallel simulator runs")
    e.add_argument("--simulator", default="ngspice")
    e.add_argument("--samples", type=int, default=None, help="first N test samples only")
    e.set_defaults(func=cmd_eval)

    x = sub.add_parser("export", help="write the trained network as a netlist")
    x.add_argument("dir", type=Path)
    x.add_argument("--level", choices=LEVELS, required=True,
                   help="envelope and netlist: the envelope netlist; rf: the RF transient")
    x.add_argument("--dialect", choices=NETLIST_DIALECTS, default="ngspice")
    x.add_argument("--data", default=None, help="take the input from this data set")
    x.add_argument("--sample", type=int, default=0, help="test sample used as the input")
    x.add_argument("--out", type=Path, default=None, help="file (default DIR/<level>.<ext>)")
    x.add_argument("--force", action="store_true", help="replace existing files")
    x.set_defaults(func=cmd_export)


MAX_LAYER = 100_000
"""The largest layer ``--layers`` accepts (more would exhaust memory, not train)."""
MAX_RESONATORS = 1_000_000
"""The most resonators (the sum over layers of inputs x outputs) ``--layers`` accepts."""


def _layers(text: str) -> list[int]:
    from neurospice.errors import ArgumentError

    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise ArgumentError(f"--layers must be comma-separated integers, got {text!r}") from None
    if len(sizes) < 2 or not all(1 <= s <= MAX_LAYER for s in sizes):
        raise ArgumentError(f"--layers needs at least two sizes, each in [1, {MAX_LAYER}], "
                            f"got {text!r}")
    if sum(a * b for a, b in zip(sizes, sizes[1:])) > MAX_RESONATORS:
        raise ArgumentError(f"--layers {text}: more than {MAX_RESONATORS} resonators")
    return sizes


def _positive(args, *names: str) -> None:
    """Integer options that must be >= 1 (ArgumentError naming the option)."""
    from neurospice.errors import ArgumentError

    for name in names:
        value = getattr(args, name)
        if value < 1:
            raise ArgumentError(f"--{name.replace('_', '-')} must be >= 1, got {value}")


def _finite(args, **bounds) -> None:
    """Float options that must be finite and above (or at, when the flag is True) a bound."""
    import math

    from neurospice.errors import ArgumentError

    for name, (low, inclusive) in bounds.items():
        value = getattr(args, name)
        if not math.isfinite(value) or value < low or (value == low and not inclusive):
            raise ArgumentError(f"--{name.replace('_', '-')} must be a finite number "
                                f"{'>=' if inclusive else '>'} {low:g}, got {value}")


def cmd_train(args) -> int:
    from neurospice.errors import ArgumentError, OutputError
    from neurospice.fileio import output_folder

    sizes = _layers(args.layers)
    _positive(args, "epochs", "batch", "restarts")
    _finite(args, lr_shift=(0, False), lr_bias=(0, False), lr_gain=(0, True), spread=(0, True),
            f_min=(0, False), f_max=(0, False))
    _finite(args, **{k: b for k, b in (("input_noise", (0, True)), ("logit_scale", (0, False)))
                     if getattr(args, k) is not None})
    if args.f_min >= args.f_max:
        raise ArgumentError(f"--f-min ({args.f_min:g}) must be below --f-max ({args.f_max:g})")
    if not 0 <= args.seed < 2 ** 32 - args.restarts:
        raise ArgumentError(f"--seed must be in [0, 2**32 - restarts), got {args.seed}")
    if args.band is not None and args.band < 0:
        raise ArgumentError(f"--band must be >= 0, got {args.band}")
    if Path(args.data).is_file() and Path(args.out).is_dir() \
            and Path(args.data).resolve().parent == Path(args.out).resolve():
        raise OutputError(f"holds the data file {args.data}; choose another output folder",
                          path=args.out)
    ds = load_data(args.data, args.seed)
    if sizes[0] != ds.n_inputs:
        raise ArgumentError(f"--layers starts with {sizes[0]} inputs, the data has "
                            f"{ds.n_inputs}")
    with output_folder(args.out, overwrite=args.force):   # refused now, not after training
        return _train_and_write(args, ds, sizes)


def _train_and_write(args, ds, sizes) -> int:
    import json

    from neurospice.circuits.rfnet.devices import device_parameters
    from neurospice.circuits.rfnet.network import RFNetwork, linear_plan
    from neurospice.circuits.rfnet.train import fit
    from neurospice.fileio import write_text_atomic
    freq = ds.freq_hz if ds.freq_hz is not None else linear_plan(ds.n_inputs, args.f_min,
                                                                  args.f_max)
    build = lambda s: RFNetwork.build(sizes, freq, band=args.band, spread=args.spread,  # noqa
                                      seed=args.seed + s, name=Path(args.out).name or "rfnet",
                                      init_shift=1.0 if sizes[0] <= 8 else 0.1)
    from neurospice.circuits.rfnet.baselines import train_baseline

    # The conventional model of the same shape first: printed beside the result, and the
    # network's first restart starts from it (fit's ``start``, on the same split).
    base = train_baseline(sizes, ds.x_train, ds.y_train, x_test=ds.x_test, y_test=ds.y_test,
                          seed=args.seed)
    net, hist, tried = fit(build, ds.x_train, ds.y_train, restarts=args.restarts, target=0.995,
                           epochs=args.epochs, batch=args.batch, lr_shift=args.lr_shift,
                           lr_bias_v=args.lr_bias, lr_v_gain=args.lr_gain, x_test=ds.x_test,
                           y_test=ds.y_test, show_progress=True, start=base,
                           split_seed=args.seed,
                           **{k: v for k in ("input_noise", "logit_scale")
                              if (v := getattr(args, k)) is not None})
    out = Path(args.out)                                 # empty, or --force was given
    net.save(out / "network.json", overwrite=True)
    write_text_atomic(out / "devices.json", json.dumps(device_parameters(net)), overwrite=True)
    summary = {"data": args.data, "layers": sizes, "devices": net.device_count,
               "train_accuracy": hist.train_acc[-1], "test_accuracy": hist.test_acc[-1],
               "validation_accuracy": hist.val_acc[-1] if hist.val_acc else None,
               "best_epoch": hist.best_epoch, "stopped_early": hist.stopped_early,
               "seconds": hist.total_seconds, "seconds_kept_restart": hist.seconds,
               "seconds_per_restart": hist.restart_seconds, "restarts_tried": tried,
               "loss": hist.loss, "test_accuracy_per_epoch": hist.test_acc,
               "baseline": {"name": base.name, "train_accuracy": base.train_accuracy,
                            "test_accuracy": base.test_accuracy, "seconds": base.seconds}}
    write_text_atomic(out / "training.json", json.dumps(summary), overwrite=True)
    print(f"trained {sizes} ({net.device_count['total']} devices) in {hist.total_seconds:.1f} s "
          f"({tried} restart(s); the kept one {hist.seconds:.1f} s, best epoch "
          f"{hist.best_epoch}): train {100 * hist.train_acc[-1]:.2f} %, test "
          f"{100 * hist.test_acc[-1]:.2f} %; written to {out}")
    print(base.line())
    return 0


def cmd_eval(args) -> int:
    import numpy as np

    from neurospice.circuits.rfnet import envelope_netlist as EN
    from neurospice.circuits.rfnet.network import RFNetwork
    from neurospice.circuits.rfnet.rf_netlist import power_report

    net = RFNetwork.load(Path(args.dir) / "network.json")
    ds = load_data(args.data)
    x, y = ds.x_test, ds.y_test
    if args.samples is not None:
        _positive(args, "samples")
        x, y = x[:args.samples], y[:args.samples]
    ref = net.forward(x)
    acc_env = float(np.mean(net.classify(ref) == y))
    print(f"envelope model: test accuracy {100 * acc_env:.2f} % on {len(y)} samples")
    if args.level == "netlist":
        out, ops = EN.evaluate(net, x, simulator=args.simulator, with_op=True)
        acc = float(np.mean(net.classify(out) == y))
        rel = float(np.max(np.abs(out - ref)) / np.max(np.abs(ref)))
        pw = power_report(net, ops[0])
        print(f"envelope netlist ({args.simulator}): test accuracy {100 * acc:.2f} %, "
              f"largest difference from numpy {rel:.2e} of the largest score")
        print("power, first sample: " + ", ".join(f"{k} {1e3 * v:.4f} mW" for k, v in pw.items()))
    elif args.level == "rf":
        from neurospice.circuits.rfnet import rf_netlist as RF

        _positive(args, "workers")
        res = RF.evaluate(net, x, simulator=args.simulator, workers=args.workers,
                          show_progress=True)
        ok = np.array([e is None for e in res["errors"]])
        same = float(np.mean(net.classify(res["scores"][ok]) == net.classify(ref[ok]))) \
            if ok.any() else 0.0
        acc = float(np.mean(net.classify(res["scores"][ok]) == y[ok])) if ok.any() else 0.0
        print(f"RF transient ({args.simulator}, {args.workers} workers, {res['seconds']:.1f} s): "
              f"test accuracy {100 * acc:.2f} % on {int(ok.sum())} samples, same class as the "
              f"envelope for {100 * same:.2f} %; {res['read_out']}")
        if ok.any():
            diff = np.abs(res["scores"][ok] - ref[ok]) / np.max(np.abs(ref[ok]))
            print(f"difference of the RF scores from the envelope's, relative to the largest "
                  f"envelope score: median {np.median(diff):.2e}, largest {np.max(diff):.2e}")
        for k, err in enumerate(res["errors"]):
            if err is not None:
                print(f"sample {k}: failed: {err}")
    return 0


def cmd_export(args) -> int:
    import numpy as np

    from neurospice.circuits.rfnet import envelope_netlist as EN
    from neurospice.netlists.dialects import DIALECTS
    from neurospice.circuits.rfnet import rf_netlist as RF
    from neurospice.circuits.rfnet.network import RFNetwork

    net = RFNetwork.load(Path(args.dir) / "network.json")
    if args.data:
        x_test = load_data(args.data).x_test
        if not 0 <= args.sample < len(x_test):
            from neurospice.errors import ArgumentError

            raise ArgumentError(f"--sample must be in [0, {len(x_test)}) for {args.data}, got "
                                f"{args.sample}")
        x = x_test[args.sample]
    else:
        x = np.full(net.layers[0].n_in, 0.5e-6)
    if args.level in ("envelope", "netlist"):
        c = EN.build(net, x)
        c.op()
    else:
        c = RF.build(net, x, rendering="subckt" if args.dialect != "vacask" else "osdi")
    suffix = DIALECTS[args.dialect].suffix
    path = args.out or Path(args.dir) / f"{args.level}.{args.dialect}{suffix}"
    from neurospice.fileio import check_not_input

    check_not_input([path], [Path(args.dir) / "network.json", args.data])
    # with every file it loads beside itself (compiled .osdi, VACASK's generated wrappers),
    # named relative to it: the folder runs in the plain simulator from anywhere
    from neurospice.simulators.runnable import write_runnable

    write_runnable(c, path, args.dialect, overwrite=args.force)
    print(f"wrote {path} ({len(c.elements)} elements)", file=sys.stderr)
    print(path)
    return 0
