"""Progress bars on long operations (sweeps, Monte-Carlos, fits, training): one helper.

``progress(iterable, total=, desc=, enabled=None)`` wraps an iterable in a tqdm bar on
stderr. ``enabled=None`` (the default) shows the bar only when stderr is a terminal, so logs,
pipes and test runs stay quiet; ``True`` forces it on, ``False`` off. The environment
variable ``NEUROSPICE_PROGRESS`` (``0`` or ``1``) overrides the terminal check where
``enabled`` is None. tqdm is imported only when a bar is shown.

A bar that is updated by hand (results arriving out of order) is
``bar = progress(None, total=n, desc="sweep")``, then ``bar.update(1)`` and ``bar.close()``;
when quiet it is a :class:`Quiet` object whose methods (``update``, ``set_postfix``,
``set_postfix_str``, ``close``) do nothing.
"""

from __future__ import annotations

import os
import sys

__all__ = ["progress", "wanted", "Quiet"]


class Quiet:
    """What :func:`progress` returns for a hand-updated bar when no bar is shown."""

    def __init__(self, iterable=None):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable if self.iterable is not None else ())

    def update(self, n: int = 1) -> None:
        """Nothing to show."""

    def set_postfix(self, *_values, **_named) -> None:
        """Nothing to show."""

    def set_postfix_str(self, *_text, **_named) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def wanted(enabled: bool | None = None) -> bool:
    """Whether a bar is shown: ``enabled`` when given, else ``NEUROSPICE_PROGRESS`` when set
    to 0/1, else whether stderr is a terminal."""
    if enabled is not None:
        return bool(enabled)
    env = os.environ.get("NEUROSPICE_PROGRESS", "").strip()
    if env in ("0", "1"):
        return env == "1"
    stream = sys.stderr
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):   # a replaced or closed stderr
        return False


def progress(iterable=None, *, total: int | None = None, desc: str = "",
             enabled: bool | None = None, unit: str = "it"):
    """``iterable`` wrapped in a tqdm bar on stderr when :func:`wanted` (else unchanged, or a
    :class:`Quiet` stand-in when ``iterable`` is None, for a bar updated by hand)."""
    if not wanted(enabled):
        return Quiet() if iterable is None else iterable
    from tqdm import tqdm  # noqa: PLC0415 - imported when a bar is shown

    return tqdm(iterable, total=total, desc=desc or None, unit=unit, file=sys.stderr,
                dynamic_ncols=True)
