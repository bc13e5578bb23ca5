"""The registry of device definitions: name -> Device, built on first use."""

from __future__ import annotations

from functools import cache

from neurospice.errors import NetlistError

_MODULES = {
    "mtj": "neurospice.compact_models.mtj",
    "rram": "neurospice.compact_models.rram",
    "dwmtj": "neurospice.compact_models.dwmtj",
    "spin_diode": "neurospice.compact_models.spin_diode",
    "stno": "neurospice.compact_models.stno",
    "nbox": "neurospice.compact_models.nbox",
}


@cache
def get_device(name: str):
    """The :class:`~neurospice.compact_models.framework.Device` called ``name``."""
    import importlib

    try:
        module = _MODULES[name]
    except KeyError:
        raise NetlistError(f"unknown device {name!r} (known: {', '.join(sorted(_MODULES))})") \
            from None
    return importlib.import_module(module).DEVICE


def as_device(device):
    """``device`` itself if it is a :class:`~neurospice.compact_models.framework.Device`, else
    the registered device of that name (:func:`get_device`)."""
    return get_device(device) if isinstance(device, str) else device


def device_names() -> list[str]:
    """The names of the registered devices, sorted."""
    return sorted(_MODULES)
