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
under the harness cache (`llava_shaped.as_llava_hf`; the size of the checkpoint on disk).

``protocol=`` picks between what the checkpoints were fine-tuned on and what Q-Instruct's own Q-Bench
scripts evaluate them with (Q-Future/Q-Instruct; see docs/adapters.md):

- ``trained`` (the default): the ``v1`` conversation on mean-padded squares, as the fine-tuning scripts
  (``scripts/mplug_owl_2/mix_q_instruct.sh``, ``scripts/llava_v1.5/mix_qinstruct_llava_v1.5_*.sh``:
  ``--version v1 --image_aspect_ratio pad``) train them: the "curious user" system sentence, then
  ``USER: <|image|>\\n{q} ASSISTANT:`` (Owl2; its training code puts the image token and a newline
  before the question) or ``USER: <image>\\n{q} ASSISTANT:`` (LLaVA); boxes read on the padded square.
- ``eval_script``: the conversation and image of ``eval_scripts/*/eval_qbench_mcq.py``: Owl2's
  ``mplug_owl2`` conversation (``USER: <|image|>{q} ASSISTANT:``, no system) and LLaVA's ``llava_v1``
  (the "curious human" system sentence), the image given to the checkpoint's processor as it is, which
  centre-crops it (448 px for Owl2, 336 for LLaVA). Those LLaVA scripts load the model in 8 bits: add
  ``load_in_8bit=true`` (CUDA and bitsandbytes) to match that too; it is off by default.

``prompt_template=`` and ``frame=`` still override the protocol's choice.
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
VICUNA_V1_SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. "
                    "The assistant gives helpful, detailed, and polite answers to the user's questions.")
PROTOCOLS = ("trained", "eval_script")
# (family, protocol) -> the base adapter's prompt and frame arguments
PROTOCOL_ARGS: dict[tuple[str, str], dict[str, str]] = {
    ("owl2", "trained"): {"prompt_template": VICUNA_V1_SYSTEM + " USER: <|image|>\n{question} ASSISTANT:",
                          "frame": "pad_square:mean"},
    ("owl2", "eval_script"): {"prompt_template": "USER: <|image|>{question} ASSISTANT:", "frame": "center_crop"},
    ("llava", "trained"): {"prompt": "conversation"},  # the llava adapter's default: vicuna_v1, mean-padded
    ("llava", "eval_script"): {"prompt_template": LLAVA_V1_TEMPLATE, "frame": "center_crop"},
}


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

    def __init__(self, variant: str = DEFAULT_VARIANT, pretrained: str | None = None, protocol: str = "trained",
                 **base_args: Any) -> None:
        if variant not in PRESETS:
            raise ConfigError(f"model 'qinstruct': unknown variant {variant!r}; choose one of {', '.join(PRESETS)}")
        if protocol not in PROTOCOLS:
            raise ConfigError(f"model 'qinstruct': protocol={protocol!r} is not one of {', '.join(PROTOCOLS)}")
        family, checkpoint = PRESETS[variant]
        base_args = {**PROTOCOL_ARGS[(family, protocol)], **base_args}
        pretrained = pretrained or checkpoint
        if family == "llava":  # original LLaVA layout: converted once into a llava-hf folder
            from .hf_common import require_transformers
            from .llava_shaped import as_llava_hf

            require_transformers("model 'qinstruct'")
            pretrained = as_llava_hf(str(pretrained), base_args.pop("revision", None))
        self.variant, self.family, self.protocol = variant, family, protocol
        self.delegate = base_adapter(family)(pretrained=pretrained, **base_args)
        self.box_format = self.delegate.box_format
        self.model_args = {"variant": variant, "protocol": protocol, **dict(getattr(self.delegate, "model_args", {}))}

    @classmethod
    def can_load(cls) -> tuple[bool, str]:
        ok, why = base_adapter(PRESETS[DEFAULT_VARIANT][0]).can_load()
        return ok, why if ok else f"variant {DEFAULT_VARIANT}: {why}"

    @classmethod
    def frame_summary(cls) -> str:
        return "protocol=trained: owl2 / pad_square:mean (owl2-7b), llava15 / pad_square:mean (llava-*)"

    def generate(self, requests: Sequence[Request]) -> list[str]:
        return self.delegate.generate(requests)

    def render_prompts(self, requests: Sequence[Request]) -> list[str | None]:
        return self.delegate.render_prompts(requests)

    def full_prompts(self, requests: Sequence[Request]) -> list[str | None]:
        return self.delegate.full_prompts(requests)

    def identity(self) -> dict[str, Any]:
        return {"model": self.name, "variant": self.variant, "protocol": self.protocol,
                "base": self.delegate.identity()}

    def close(self) -> None:
        self.delegate.close()

    def supports_choice_scoring(self) -> bool:
        return self.delegate.supports_choice_scoring()

    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
        return self.delegate.score_choices(requests)


@hookimpl
def register_models(register: Any) -> None:
    register(QInstructAdapter)
