"""Sphinx configuration of the neurospice documentation (``make docs``; warnings are errors)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "neurospice"
author = "the neurospice developers"
copyright = "the neurospice developers"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "neurospice_docs",      # generated device pages, API page, the example gallery
]

source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_ext"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = "neurospice"

# API reference: autodoc over the public modules. Signatures keep their annotations as written
# (from __future__ import annotations), members in source order.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"undoc-members": False}
# Not nitpicky: a type in a signature that Sphinx cannot link (numpy arrays, Mapping[...]) is
# shown as text, not a warning. Every other warning fails the build (-W in `make docs`).
nitpicky = False
# Ambiguous short names: two classes each have an attribute called ``type``, and a signature
# mentioning the builtin ``type`` then matches both. Such a link goes to the first match; only
# the cross-reference ambiguity warnings of the Python domain are silenced, nothing else.
suppress_warnings = ["ref.python"]
# Text as written: no curly quotes or dashes substituted (the device pages quote the
# definitions' strings verbatim, and the tests compare them).
smartquotes = False
