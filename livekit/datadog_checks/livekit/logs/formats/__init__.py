# (C) Datadog, Inc. 2026-present
# All rights reserved
# Licensed under a 3-clause BSD style license (see LICENSE)
"""The line formats of LiveKit's SDKs, each a `LineFormat`: `python`, `node`; `companion` adds its records
to both (the Python and the Node companion write them as job lines of their SDK's format)."""

from . import node, python
from .line_format import LineFormat

# The type of a line's `level` tells its SDK: Python names its levels, Node numbers them.
BY_LEVEL_TYPE = {str: python.FORMAT, int: node.FORMAT}

__all__ = ['BY_LEVEL_TYPE', 'LineFormat']
