"""The MTJ family, simulated: static MTJ loop and switching law, spin-diode spectrum, STNO.

    .venv/bin/python examples/mtj_family.py [--simulator ngspice|vacask] [--out OUT_DIR]

The figure goes to --out (default out/examples/mtj_family).

Each study is a function of neurospice.demo.mtj_family that builds a Circuit with the
device's Verilog-A (`device.add_to(circuit, ...)`), runs it and measures the result with
neurospice.analysis.rf; the figure draws each against the model's closed form.
"""

import argparse
from pathlib import Path

from neurospice.demo.mtj_family import showcase_mtj_family


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulator", default="ngspice", choices=["ngspice", "vacask"])
    parser.add_argument("--out", default="out/examples/mtj_family")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print("\n".join(showcase_mtj_family(out, args.simulator)))
    print(f"figure: {out / 'mtj_family.png'}")


if __name__ == "__main__":
    main()
