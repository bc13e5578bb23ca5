"""The memristor Bayesian machine on scikit-learn's digits, from netlist to energy per decision.

    .venv/bin/python examples/bayesian_machine.py [--simulator ngspice|vacask] [--bits N]
        [--out OUT_DIR]

Writes bayesian_machine.png and summary.md to --out (default out/examples/bayesian_machine).
Needs the ``learn`` extra (scikit-learn).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurospice.demo.bayesian import showcase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulator", default="ngspice", choices=["ngspice", "vacask"])
    parser.add_argument("--bits", type=int, default=512,
                        help="bits in the column Monte-Carlo (read at 5 supplies)")
    parser.add_argument("--out", default="out/examples/bayesian_machine")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = showcase(out, n_bits=args.bits, simulator=args.simulator)
    from neurospice.fileio import write_text_atomic

    write_text_atomic(out / "summary.md", "\n".join(lines) + "\n", overwrite=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
