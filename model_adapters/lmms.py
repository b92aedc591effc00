"""``lmms``: any lmms-eval model inside giqa-harness.

    giqa-harness --model lmms \\
        --model_args model=llava_hf,pretrained=llava-hf/llava-1.5-7b-hf,box_format=llava15,frame=center_crop \\
        --tasks giqa_des

``model`` names the lmms-eval model (its registry, "simple" implementation); ``box_format`` and
``frame`` declare how that model writes boxes (defaults from the same table the task export uses,
`giqa_harness.interop.lmms_tasks.MODEL_FORMATS`); every other argument goes to the lmms-eval model
unchanged. lmms-eval lives in its own virtual environment (it breaks the core one's CPU torch; see
docs/lmms.md and ``scripts/check_lmms_interop.sh``); nothing else in giqa-harness imports it.
"""

from __future__ import annotations

from typing import Any, Sequence

from giqa_harness.boxes.formats import get_format
from giqa_harness.errors import ConfigError, MissingDependencyError
from giqa_harness.hookspecs import hookimpl
from giqa_harness.interop.lmms_tasks import MODEL_FORMATS
from giqa_harness.models import ModelAdapter, Request

_TASK, _SPLIT = "giqa_harness", "test"


def _visual(doc: dict[str, Any]) -> list[Any]:
    return [doc["image"]]


class LmmsAdapter(ModelAdapter):
    name = "lmms"
    description = "any lmms-eval model (model=NAME plus its own model args)"
    install = "scripts/check_lmms_interop.sh (builds lmms-eval's own venv, .lmms-venv: docs/lmms.md)"
    requires = ("lmms_eval",)

    def __init__(self, model: str | None = None, box_format: str | None = None, frame: str | None = None,
                 emits_boxes: bool | None = None, batch_size: int = 1, **lmms_args: Any) -> None:
        if not model:
            raise ConfigError("model 'lmms' needs --model_args model=<lmms-eval model name>,...")
        default_format, default_frame, default_emits = MODEL_FORMATS.get(model, MODEL_FORMATS["default"])
        self.box_format = get_format(box_format or default_format, frame or default_frame)
        self.emits_boxes = default_emits if emits_boxes is None else bool(emits_boxes)
        try:
            from lmms_eval.models import get_model
        except ImportError:
            raise MissingDependencyError("lmms-eval", self.install, "the 'lmms' adapter") from None
        cls = get_model(model, force_simple=True)
        arg_string = ",".join(f"{k}={v}" for k, v in lmms_args.items())
        self.lm = cls.create_from_arg_string(arg_string, {"batch_size": batch_size})
        self.model_args = {"model": model, "box_format": self.box_format.name,
                           "frame": self.box_format.frame.describe(), **lmms_args}

    def generate(self, requests: Sequence[Request]) -> list[str]:
        from lmms_eval.api.instance import Instance, unwrap_generation_output

        # lmms-eval models fetch each image through task_dict[task][split][doc_id].
        self.lm.task_dict = {_TASK: {_SPLIT: {i: {"image": r.image} for i, r in enumerate(requests)}}}
        instances = [
            Instance(
                request_type="generate_until",
                arguments=(r.question, dict(r.generation_kwargs), _visual, i, _TASK, _SPLIT),
                idx=0,
                metadata={"task": _TASK, "doc_id": i, "repeats": 1},
            )
            for i, r in enumerate(requests)
        ]
        outputs = self.lm.generate_until(instances)
        return [str(unwrap_generation_output(o)[0]) for o in outputs]


@hookimpl
def register_models(register):
    register(LmmsAdapter)
