"""Registers the built-in annotation detector through the ``register_detectors`` hook.

It needs the entry point ``annotate = "giqa_harness.annotate.registration"`` in pyproject.toml; until
that is installed, `ensure_registered` adds this module at run time (a no-op once the entry point has
loaded it), so ``--detector grounding_dino`` always resolves.
"""

from __future__ import annotations

import sys

from giqa_harness.hookspecs import hookimpl

from .detect import GroundingDinoDetector


@hookimpl
def register_detectors(register):
    register(GroundingDinoDetector)


def ensure_registered() -> None:
    from giqa_harness.plugins import plugin_manager, register_plugin

    module = sys.modules[__name__]
    if not plugin_manager().is_registered(module):
        register_plugin(module, name="annotate")
