"""``owl2``: mPLUG-Owl2 (X-PLUG/mPLUG-Owl, folder mPLUG-Owl2) through its own ``mplug_owl2`` package.

    giqa-harness --model owl2 --model_args pretrained=MAGAer13/mplug-owl2-llama2-7b --tasks giqa_vqa

Importing ``mplug_owl2.model`` registers the architecture (``MPLUGOwl2LlamaForCausalLM``, the LLaMA-2
variant) with transformers; the adapter loads it with the harness's load options (dtype, device,
device_map, attention), the tokenizer with ``use_fast=False`` and the checkpoint's CLIP image
processor (448 px), as the package's own builder does. Facts from mPLUG-Owl2 (see docs/adapters.md):
its evaluation scripts (``mplug_owl2/evaluate/evaluate_*.py``) prompt ``USER: <|image|>{question}
ASSISTANT: `` (no system sentence, the image token directly before the text, a space after
``ASSISTANT:``), resize the image to a square of its longer side (a squash: the frame is the original
image) before the processor, and decode greedily with one beam; answers end with ``</s>``. Its
``mplug_owl2`` conversation (``mplug_owl2/conversation.py``) renders the same prompt without the final
space, which is what training/ fine-tunes on (`CONVERSATION`). Its forward also needs per-position *modality indicators*
(1 for image features, 0 for text), which the batch decoder pads with 0.
"""

from __future__ import annotations

from typing import Any, Sequence

from giqa_harness.boxes.frames import Frame, OriginalFrame
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import ChoiceRequest, Request

from .embeds_decoding import PromptEmbedding
from .hf_common import HFLoadOptions, check_prompt_template, model_input_image
from .llava_shaped import clip_image_processor
from .package_common import PackageAdapter, load_package_model
from .prompt_text import decode_prompt

IMAGE = "<|image|>"
CONVERSATION = "USER: <|image|>{question} ASSISTANT:"  # the mplug_owl2 conversation's rendering
TEMPLATE = CONVERSATION + " "  # the evaluation scripts' prompt
INSTALL = "git clone https://github.com/X-PLUG/mPLUG-Owl && pip install -e ./mPLUG-Owl/mPLUG-Owl2"


def owl2_prompt(question: str, template: str = TEMPLATE) -> str:
    return template.replace("{question}", question)


class Owl2Adapter(PackageAdapter):
    name = "owl2"
    aliases = ("mplug_owl2",)
    description = "mPLUG-Owl2 (X-PLUG/mPLUG-Owl2) via its own package; squashed square at 448, original frame"
    install = INSTALL
    package = "mplug_owl2"
    requires = ("mplug_owl2", "torch", "transformers")
    default_box_format = "owl2"

    def load(self, pretrained: str | None = None, device: str | None = None, dtype: str | None = None,
             device_map: str | None = None, attn_implementation: str | None = None, trust_remote_code: bool = False,
             revision: str | None = None, prompt_template: str | None = None) -> None:
        from mplug_owl2.constants import IMAGE_TOKEN_INDEX
        from mplug_owl2.mm_utils import process_images, tokenizer_image_token
        from mplug_owl2.model import MPLUGOwl2LlamaForCausalLM
        from transformers import AutoTokenizer

        self.options = HFLoadOptions.from_args(self.name, pretrained, device, dtype, device_map, attn_implementation,
                                               trust_remote_code, revision)
        self.template = check_prompt_template(str(prompt_template), IMAGE) if prompt_template else TEMPLATE
        self.model = load_package_model(MPLUGOwl2LlamaForCausalLM, self.options)
        kwargs = self.options.processor_kwargs()
        self.tokenizer = AutoTokenizer.from_pretrained(self.options.pretrained, use_fast=False, **kwargs)
        self.image_processor = clip_image_processor(self.options.pretrained, **kwargs)
        self.eos_ids = (self.tokenizer.eos_token_id,)
        self.tokenizer_image_token, self.process_images = tokenizer_image_token, process_images
        self.image_token_index = IMAGE_TOKEN_INDEX

    def default_frame(self) -> Frame:
        return OriginalFrame()

    @classmethod
    def frame_summary(cls) -> str:
        return "owl2 / original (squashed to 448)"

    def prompt_ids(self, request: Request) -> Any:
        """The package's tokenization of the prompt, the image as the placeholder id ``-200``."""
        prompt = owl2_prompt(request.question, self.template)
        return self.tokenizer_image_token(prompt, self.tokenizer, self.image_token_index, return_tensors="pt")

    def prompt_text(self, request: Request) -> str:
        return decode_prompt(self.tokenizer, self.prompt_ids(request).tolist(), {self.image_token_index: IMAGE})

    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
        # A scored answer brings its own leading space (``ASSISTANT: The quality of the image is``), so
        # the evaluation scripts' trailing space would double it: score after the prompt without it.
        template = self.template
        self.template = template.rstrip()
        try:
            return super().score_choices(requests)
        finally:
            self.template = template

    def embed_prompt(self, request: Request) -> PromptEmbedding:
        import torch

        input_ids = self.prompt_ids(request)[None].to(self.model.device)
        square = model_input_image(request.image, self.image_frame, square=True)  # its resize to the longer side
        pixels = self.process_images([square], self.image_processor).to(self.model.device, dtype=self.model.dtype)
        with torch.inference_mode():
            out = self.model.prepare_inputs_labels_for_multimodal(input_ids, torch.ones_like(input_ids), None, None,
                                                                  pixels)
        _, modality, _, _, embeds, _ = out
        return PromptEmbedding(embeds[0], {"modality_indicators": modality[0]})

    def step(self, embeds: Any, attention_mask: Any, position_ids: Any, past: Any, extras: Any) -> tuple[Any, Any]:
        out = self.model.get_model()(inputs_embeds=embeds, modality_indicators=extras["modality_indicators"],
                                     attention_mask=attention_mask, position_ids=position_ids,
                                     past_key_values=past, use_cache=True, return_dict=True)
        return self.model.lm_head(out.last_hidden_state[:, -1]), out.past_key_values

    def embed_tokens(self, token_ids: Any) -> Any:
        return self.model.get_model().embed_tokens(token_ids)


@hookimpl
def register_models(register: Any) -> None:
    register(Owl2Adapter)
