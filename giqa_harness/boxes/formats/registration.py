"""Registers the built-in box formats through the same hook a third-party plugin uses."""

from __future__ import annotations

from ...hookspecs import hookimpl
from .bare import BARE_FORMATS
from .continuous import GiqaContinuousFormat
from .florence2 import Florence2Format
from .grid import GridFormat
from .kosmos2 import Kosmos2Format
from .qwen_json import Qwen25JsonFormat
from .refbox import REF_BOX_FORMATS


@hookimpl
def register_box_formats(register):
    for fmt in (GridFormat, GiqaContinuousFormat, Kosmos2Format, *BARE_FORMATS, *REF_BOX_FORMATS, Qwen25JsonFormat, Florence2Format):
        register(fmt)
