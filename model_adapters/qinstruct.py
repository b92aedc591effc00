"""``qinstruct``: the Q-Instruct checkpoints (Q-Future/Q-Instruct) as presets over their base families.

    giqa-harness --model qinstruct --model_args variant=owl2-7b --tasks giqa_vqa

Q-Instruct fine-tunes LLaVA-1.5 and mPLUG-Owl2 without changing their architecture, prompt or box
syntax, so a preset only names the published checkpoint and hands every other model argument to the
base adapter (``llava`` or ``owl2``), whose prompt, frame and box format apply:

- ``llava-7b``  -> teowu/llava_v1.5_7b_qinstruct_preview_v0.1  (``llava``)
- ``llava-13b`` -> teowu/llava_v1.5_13b_qinstruct_preview_v0.1 (``llava``)
- ``owl2-7b``   -> teowu/mplug_owl2_7b_448_qinstruct_preview_v0.2 (``owl2``, the default)

``pretrained=`` replaces the checkpoint (a local copy, or the ``..._v0.1`` Owl2 preview). The LLaVA
checkpoints are in the original LLaVA layout: the first use converts them once into a llava-hf folder
under the harness cache (`llava_shaped.as_llava_hf`; the size of the checkpoint on disk). The ``llava``
preset prompts with the original conversation (LLaVA's ``llava_v1``: the "curious human" system
sentence before ``USER: <image>\\n{q} ASSISTANT:``), which Q-Instruct's own evaluation uses; ``prompt_template=`` overrides it. Facts from
Q-Future/Q-Instruct: its own Q-Bench scripts pass the image to the CLIP processor without padding (a
centre crop); pass ``frame=center_crop`` to reproduce that instead of the base family's frame.
"""

from __future__ import annotations

from typing import Any, Sequence

from giqa_harness.errors import ConfigError
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import ChoiceRequest, ModelAdapter, Request

PRESETS = {
    "llava-7b": ("llava", "teowu/llava_v1.5_7b_qinstruct_preview_v0.1"),
    "llava-13b": ("llava", "teowu/llava_v1.5_13b_qinstruct_preview_v0.1"),
    "owl2-7b": ("owl2", "teowu/mplug_owl2_7b_448_qinstruct_preview_v0.2"),
}
DEFAULT_VARIANT = "owl2-7b"
LLAVA_V1_TEMPLATE = ("A chat between a curious human and an artificial intelligence assistant. "
                     "The assistant gives helpful, detailed, and polite answers to the human's questions. "
                     "USER: <image>\n{question} ASSISTANT:")


def base_adapter(family: str) -> type[ModelAdapter]:
    if family == "llava":
        from .llava import LlavaAdapter

        return LlavaAdapter
    from .owl2 import Owl2Adapter

    return Owl2Adapter


class QInstructAdapter(ModelAdapter):
    name = "qinstruct"
    description = "Q-Instruct checkpoints (Q-Future): presets llava-7b, llava-13b, owl2-7b over the llava/owl2 adapters"
    install = "see the base adapter: llava (pip install 'giqa-harness[hf]') or owl2 (mPLUG-Owl2's package)"
    requires = ("mplug_owl2", "torch", "transformers")  # the default variant's needs
    default_box_format = "owl2"

    def __init__(self, variant: str = DEFAULT_VARIANT, pretrained: str | None = None, **base_args: Any) -> None:
        if variant not in PRESETS:
            raise ConfigError(f"model 'qinstruct': unknown variant {variant!r}; choose one of {', '.join(PRESETS)}")
        family, checkpoint = PRESETS[variant]
        pretrained = pretrained or checkpoint
        if family == "llava":  # original LLaVA layout: converted once into a llava-hf folder
            from .hf_common import require_transformers
            from .llava_shaped import as_llava_hf

            require_transformers("model 'qinstruct'")
            pretrained = as_llava_hf(str(pretrained), base_args.pop("revision", None))
            base_args.setdefault("prompt_template", LLAVA_V1_TEMPLATE)
        self.variant, self.family = variant, family
        self.delegate = base_adapter(family)(pretrained=pretrained, **base_args)
        self.box_format = self.delegate.box_format
        self.model_args = {"variant": variant, **dict(getattr(self.delegate, "model_args", {}))}

    @classmethod
    def can_load(cls) -> tuple[bool, str]:
        ok, why = base_adapter(PRESETS[DEFAULT_VARIANT][0]).can_load()
        return ok, why if ok else f"variant {DEFAULT_VARIANT}: {why}"

    @classmethod
    def frame_summary(cls) -> str:
        return "as the base: owl2 / original (owl2-7b); llava15 / pad_square:mean (llava-*)"

    def generate(self, requests: Sequence[Request]) -> list[str]:
        return self.delegate.generate(requests)

    def identity(self) -> dict[str, Any]:
        return {"model": self.name, "variant": self.variant, "base": self.delegate.identity()}

    def close(self) -> None:
        self.delegate.close()

    def supports_choice_scoring(self) -> bool:
        return self.delegate.supports_choice_scoring()

    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
        return self.delegate.score_choices(requests)


@hookimpl
def register_models(register: Any) -> None:
    register(QInstructAdapter)
