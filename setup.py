"""Package layout: each top-level folder installs under the one ``neurospice`` namespace.

Metadata lives in pyproject.toml; only the folder mapping is computed here, so that a new
subpackage (say compact_models/<device>/) is installed without editing a list.
"""

from setuptools import find_packages, setup

FOLDERS = {
    "neurospice": "core",
    "neurospice.netlists": "netlists",
    "neurospice.circuits": "circuits",
    "neurospice.demo": "demo",
    "neurospice.simulators": "simulators",
    "neurospice.compact_models": "compact_models",
    "neurospice.calibration": "calibration",
    "neurospice.analysis": "analysis",
    "neurospice.learning": "learning",
}

packages = []
for name, folder in FOLDERS.items():
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

setup(
    package_dir=FOLDERS,
    packages=packages,
    package_data={"": ["*.va", "*.lib", "*.json"]},
)
