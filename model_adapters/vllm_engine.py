"""``vllm``: in-process vLLM multimodal generation, for the model families vLLM supports.

    giqa-harness --model vllm --model_args pretrained=llava-hf/llava-1.5-7b-hf,preset=llava-1.5 --tasks giqa_vqa

A preset gives the family's prompt template, box format and frame; each can be overridden:

| preset | prompt template | box format / frame |
|---|---|---|
| ``llava-1.5`` | ``vicuna_v1``: system sentence, ``USER: <image>\\n{question} ASSISTANT:`` | ``llava15`` / ``pad_square:mean`` |
| ``llava-next`` (Vicuna) | ``vicuna_v1`` as 1.5 | ``llava16`` / ``original`` |
| ``llava-next-mistral`` | ``[INST] <image>\\n{question} [/INST]`` | ``llava16`` / ``original`` |
| ``qwen2-vl`` | Qwen's chat turns around ``<|vision_start|><|image_pad|><|vision_end|>{question}`` | ``qwen2_vl`` / ``original`` |

Without a preset, ``prompt_template`` (holding ``{question}`` and the model's image placeholder) and
``box_format`` are required; ``frame`` defaults to the format's own. Other model arguments:
``dtype``, ``max_new_tokens`` (overrides the task's), ``tensor_parallel_size``,
``gpu_memory_utilization``, ``max_model_len``, ``seed``, ``trust_remote_code`` (off unless passed),
``emits_boxes``. The image is framed (padded, cropped) before vLLM's own processor sees it, in the
evaluator's prefetch workers. The engine batches continuously, so it receives windows of
``request_window`` (256) requests rather than ``--batch_size``.

vLLM is an optional extra (``pip install "giqa-harness[vllm]"``) for GPU machines, imported when the
adapter is built; the same models are reachable without it through ``--model openai`` and ``vllm serve``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from giqa_harness.boxes.formats import BoxFormat, get_format
from giqa_harness.errors import ConfigError, GiqaError, UnknownNameError
from giqa_harness.hookspecs import hookimpl
from giqa_harness.llm.chat import positive_int
from giqa_harness.llm.vllm_backend import VLLM_INSTALL, engine_options, import_vllm, model_source, sampling_params
from giqa_harness.models import ChoiceRequest, ModelAdapter, Request, bool_arg

from .hf_common import DEFAULT_MAX_NEW_TOKENS, check_prompt_template, model_input_image
from .llava import MISTRAL_TEMPLATE as MISTRAL
from .llava import VICUNA_SYSTEM, VICUNA_TEMPLATE

VICUNA = f"{VICUNA_SYSTEM} {VICUNA_TEMPLATE}"  # the authors' vicuna_v1 conversation, as the llava adapter
QWEN2_VL = ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
            "<|vision_start|><|image_pad|><|vision_end|>{question}<|im_end|>\n<|im_start|>assistant\n")


@dataclass(frozen=True)
class Preset:
    """A family's prompt shape and box conventions. ``square``: the vision tower takes a fixed square
    input, so a non-square framed image is squashed to a square before the processor (whose
    shortest-edge resize and centre crop then cut nothing off)."""

    template: str
    image_token: str
    box_format: str
    frame: str
    square: bool


PRESETS = {
    "llava-1.5": Preset(VICUNA, "<image>", "llava15", "pad_square:mean", square=True),
    "llava-next": Preset(VICUNA, "<image>", "llava16", "original", square=False),
    "llava-next-mistral": Preset(MISTRAL, "<image>", "llava16", "original", square=False),
    "qwen2-vl": Preset(QWEN2_VL, "<|image_pad|>", "qwen2_vl", "original", square=False),
}


@dataclass(frozen=True)
class Setup:
    """What the adapter resolved from its model arguments: template, declared format and frame."""

    template: str
    box_format: BoxFormat
    square: bool


def resolve_setup(preset: str | None, prompt_template: str | None, box_format: str | None,
                  frame: str | None) -> Setup:
    """The preset's template, format and frame, with the explicit arguments taking precedence."""
    if preset is None:
        if not prompt_template or not box_format:
            raise ConfigError(
                "model 'vllm' needs preset=NAME (one of " + ", ".join(PRESETS) + ") or both prompt_template= "
                "(with {question} and the model's image placeholder) and box_format="
            )
        template = check_prompt_template(str(prompt_template))
        return Setup(template, get_format(str(box_format), frame), square=False)
    if preset not in PRESETS:
        raise UnknownNameError("vllm preset", str(preset), list(PRESETS))
    chosen = PRESETS[preset]
    template = check_prompt_template(str(prompt_template or chosen.template), chosen.image_token)
    return Setup(template, get_format(str(box_format or chosen.box_format), frame or chosen.frame), chosen.square)


def build_prompt(template: str, question: str) -> str:
    """The template with the question in place (only ``{question}`` is replaced: questions may hold
    braces, and templates may hold other braces)."""
    return template.replace("{question}", question)


class VLLMAdapter(ModelAdapter):
    name = "vllm"
    description = "in-process vLLM multimodal generation (presets: " + ", ".join(PRESETS) + ")"
    install = VLLM_INSTALL
    requires = ("vllm",)
    default_box_format = ""
    # The engine schedules requests continuously: hand it this many at a time (not --batch_size), so it
    # is never starved between evaluator batches; images of the next window are prepared meanwhile.
    # The offline LLM.generate returns only when the whole window is done, so the default
    # generate_each (answers cached per window) is all this adapter can offer.
    request_window = 256

    def __init__(self, pretrained: str | None = None, preset: str | None = None, prompt_template: str | None = None,
                 box_format: str | None = None, frame: str | None = None, dtype: str = "auto",
                 max_new_tokens: int | None = None, tensor_parallel_size: int = 1,
                 gpu_memory_utilization: float = 0.9, max_model_len: int | None = None, seed: int = 0,
                 trust_remote_code: bool = False, emits_boxes: bool = True) -> None:
        if not pretrained:
            raise ConfigError("model 'vllm' needs --model_args pretrained=<local folder or hub id>,preset=NAME")
        self.setup = resolve_setup(preset, prompt_template, box_format, frame)
        self.box_format = self.setup.box_format
        self.emits_boxes = bool_arg(emits_boxes, "emits_boxes")
        self.max_new_tokens = None if max_new_tokens is None else positive_int(max_new_tokens, "max_new_tokens",
                                                                                "model 'vllm'")
        options = engine_options(dtype, tensor_parallel_size, gpu_memory_utilization, max_model_len,
                                 bool_arg(trust_remote_code, "trust_remote_code"), seed, "model 'vllm'")
        self.vllm = import_vllm("model 'vllm'")
        self.source = model_source(str(pretrained))
        self.model_args = {"pretrained": self.source, "preset": preset, "prompt_template": self.setup.template,
                           "box_format": self.box_format.name, "frame": self.box_format.frame.describe(),
                           "dtype": options["dtype"], "max_new_tokens": max_new_tokens, "seed": options["seed"]}
        self.llm = self.vllm.LLM(model=self.source, limit_mm_per_prompt={"image": 1}, **options)

    @classmethod
    def frame_summary(cls) -> str:
        pairs = dict.fromkeys(f"{p.box_format} / {p.frame}" for p in PRESETS.values())
        return "by preset: " + "; ".join(pairs)

    def prepare_image(self, image: Any) -> Any:
        return model_input_image(image, self.box_format.frame, square=self.setup.square)

    def inputs(self, requests: Sequence[Request]) -> list[dict[str, Any]]:
        """vLLM prompts: the templated question and the image as this model's frame shows it."""
        return [{"prompt": build_prompt(self.setup.template, r.question), "multi_modal_data": {"image": image}}
                for r, image in zip(requests, self.prepared_images(requests))]

    def render_prompts(self, requests: Sequence[Request]) -> list[str | None]:
        """The prompt strings handed to vLLM (which expands the image placeholder itself)."""
        return [build_prompt(self.setup.template, r.question) for r in requests]

    def generate(self, requests: Sequence[Request]) -> list[str]:
        # One SamplingParams per distinct generation_kwargs (a batch normally has one).
        groups: dict[str, list[int]] = {}
        for i, request in enumerate(requests):
            groups.setdefault(json.dumps(dict(request.generation_kwargs), sort_keys=True, default=str), []).append(i)
        answers = [""] * len(requests)
        for indices in groups.values():
            generation = dict(requests[indices[0]].generation_kwargs)
            if self.max_new_tokens is not None:
                generation["max_new_tokens"] = self.max_new_tokens
            params = sampling_params(self.vllm, generation, DEFAULT_MAX_NEW_TOKENS)
            outputs = self.llm.generate(self.inputs([requests[i] for i in indices]), params, use_tqdm=False)
            for i, output in zip(indices, outputs):
                answers[i] = output.outputs[0].text.strip()
        return answers

    def close(self) -> None:
        self.llm = None

    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
        """Prompt log-probabilities: each (prompt + prefix + candidate) is one vLLM prompt asked for one
        token with ``prompt_logprobs=0`` (the log-probability of every prompt token as it stands); the
        candidate's last tokens are summed. Its tokens must be what the tokenizer makes of it after the
        prefix, or the request fails with that reason."""
        from .choice_scoring import candidate_tokens

        tokenizer = self.llm.get_tokenizer()
        inputs, expected = [], []
        for choice in requests:
            base = self.inputs([choice.request])[0]
            _, candidates = candidate_tokens(tokenizer, choice)
            for text, ids in zip(choice.candidates, candidates):
                inputs.append({**base, "prompt": base["prompt"] + choice.prefix + text})
                expected.append(ids)
        params = self.vllm.SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
        outputs = self.llm.generate(inputs, params, use_tqdm=False)
        flat = []
        for output, ids in zip(outputs, expected):
            tail = list(output.prompt_token_ids[-len(ids):])
            if tail != ids:
                raise GiqaError(f"vLLM tokenized the candidate as {tail}, not {ids}: its log-probability is unclear")
            positions = output.prompt_logprobs[-len(ids):]
            flat.append(float(sum(entry[token].logprob for entry, token in zip(positions, ids))))
        out, cursor = [], 0
        for choice in requests:
            out.append(flat[cursor:cursor + len(choice.candidates)])
            cursor += len(choice.candidates)
        return out


@hookimpl
def register_models(register):
    register(VLLMAdapter)
