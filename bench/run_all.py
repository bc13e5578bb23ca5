"""Run every benchmark module (each in its own process, so that no in-process simulator state
carries over), show its output, then print a compact table of all the ratios.

    .venv/bin/python bench/run_all.py      (what `make bench` runs)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULES = sorted(p for p in HERE.glob("bench_*.py"))


def main() -> int:
    summary: list[tuple[str, str, float, str]] = []
    failed = []
    started = time.perf_counter()
    for module in MODULES:
        print(f"\n######## {module.name}", flush=True)
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "ratios.json"
            env = dict(os.environ, NEUROSPICE_BENCH_SUMMARY=str(out))
            t0 = time.perf_counter()
            code = subprocess.run([sys.executable, str(module)], env=env).returncode
            print(f"   ({module.name}: {time.perf_counter() - t0:.1f} s)")
            if code != 0:
                failed.append(module.name)
            if out.is_file():
                summary += [(module.stem, n, v, u) for n, v, u in json.loads(out.read_text())]
    print(f"\n######## summary: ratios and overheads "
          f"(all benchmarks: {time.perf_counter() - started:.0f} s)")
    for module, name, value, unit in summary:
        shown = f"{value:+9.1f} %" if unit == "%" else f"{value:9.3g} x"
        extra = f"  ({unit})" if unit not in ("", "%") else ""
        print(f"   {module:<17} {name:<46} {shown}{extra}")
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
