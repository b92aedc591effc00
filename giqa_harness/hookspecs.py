"""Plugin hook specifications.

A plugin is any module or object with functions decorated by `hookimpl`, listed under the
``giqa_harness`` entry-point group::

    [project.entry-points.giqa_harness]
    my_plugin = "my_package.giqa_plugin"

Each hook receives a ``register`` callback; call it once per thing you contribute. Built-in models,
formats, tasks, metrics, judges and annotation detectors are registered through exactly these hooks.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("giqa_harness")
hookimpl = pluggy.HookimplMarker("giqa_harness")


@hookspec
def register_models(register):
    """Register model adapters.

    Call ``register(adapter_class)`` for each `giqa_harness.models.ModelAdapter` subclass. The class's
    ``name`` is the value of ``--model``; ``aliases`` adds other names for it. Keep this module's
    import light: import torch or transformers inside the adapter's ``__init__``, not at module level,
    so that ``giqa-harness list`` stays fast.
    """


@hookspec
def register_box_formats(register):
    """Register box formats.

    Call ``register(format_class)`` for each `giqa_harness.boxes.formats.BoxFormat` subclass; its
    ``name`` is what adapters and ``--model_args box_format=`` refer to.
    """


@hookspec
def register_tasks(register):
    """Register folders of task YAML files.

    Call ``register(path)`` with a directory; every ``*.yaml`` below it is read as a task or a group.
    Python helpers a task names (``!function module.attr``) resolve only from that folder.
    """


@hookspec
def register_metrics(register):
    """Register metrics.

    Call ``register(metric)`` with a `giqa_harness.metrics.base.Metric` instance; task YAML files list
    metrics by its ``name``.
    """


@hookspec
def register_judges(register):
    """Register LLM backends used by judges (and by the annotation pipeline).

    Call ``register(scheme, factory)``: ``--judge scheme:rest`` calls ``factory(rest, **options)``,
    which returns a `giqa_harness.llm.base.LLMBackend`.
    """


@hookspec
def register_detectors(register):
    """Register open-vocabulary object detectors for the annotation pipeline.

    Call ``register(detector_class)`` for each `giqa_harness.annotate.detect.Detector` subclass; its
    ``name`` is the value of ``giqa-harness annotate --detector``. As with models, import torch or
    transformers inside the detector's ``__init__``, never at module level.
    """
