"""Registers the built-in annotation detector through the ``register_detectors`` hook (entry point
``annotate``), exactly as a third-party detector plugin would."""

from __future__ import annotations

from giqa_harness.hookspecs import hookimpl

from .detect import GroundingDinoDetector


@hookimpl
def register_detectors(register):
    register(GroundingDinoDetector)
