"""Where neurospice keeps its caches (compiled OSDI, generated Verilog-A)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """``$NEUROSPICE_CACHE`` or ``~/.cache/neurospice``, with ``parts`` appended and created."""
    root = os.environ.get("NEUROSPICE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "neurospice")
    path = Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
