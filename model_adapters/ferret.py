"""``ferret``: Ferret-7B/13B (apple/ml-ferret) through its own ``ferret`` package.

    giqa-harness --model ferret --model_args pretrained=/models/ferret-7b-v1-3 --tasks giqa_vqa

``pretrained`` is a Ferret checkpoint folder (the published delta applied to Vicuna with
``python -m ferret.model.apply_delta``). Facts from apple/ml-ferret (see docs/adapters.md): the
``ferret_v1`` conversation (a system sentence saying boxes are ``[x1, y1, x2, y2]`` on a 1000x1000
image, then ``USER: <image>\\n{question} ASSISTANT:``, answers end with ``</s>``); the image is
squashed to 336x336 (``do_center_crop=False``); boxes are integers ``int(v * 1000)`` of the original
image. A referring box is written ``[x1, y1, x2, y2] <region_fea>`` and the model receives, per
``<region_fea>``, a binary mask of the original image's pixels indexed ``[x, y]`` (shape ``(W, H)``),
ones on ``[x1:x2+1, y1:y2+1]`` with ``x = int(v * W)``. Its evaluation samples at temperature 0.001
(near-greedy) up to 1,024 new tokens; here decoding is greedy unless the task says otherwise.

Ferret's region sampler draws random points from each mask; the generator is seeded per prompt, so a
prompt's answer does not depend on the batch it is in. ``region_features=false`` drops the masks and
the ``<region_fea>`` tokens (the text box alone).
"""

from __future__ import annotations

from typing import Any

from giqa_harness.boxes.formats import BoxFormat
from giqa_harness.boxes.frames import Frame, OriginalFrame
from giqa_harness.boxes.geometry import Box
from giqa_harness.errors import GiqaError, ModelLoadError
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import Request

from .embeds_decoding import PromptEmbedding
from .hf_common import HFLoadOptions
from .package_common import PackageAdapter

SYSTEM = ("A chat between a human and an AI that understands visuals. "
          "In images, [x, y] denotes points: top-left [0, 0], bottom-right [width-1, height-1]. "
          "Increasing x moves right; y moves down. "
          "Bounding box: [x1, y1, x2, y2]. Image size: 1000x1000. "
          "Follow instructions. ")
IMAGE = "<image>"
IM_START, IM_END = "<im_start>", "<im_end>"
REGION_TOKEN = "<region_fea>"
INPUT_SIZE = 336  # CLIP ViT-L/14-336; Ferret's evaluation resizes to exactly this square by default
REGION_SEED = 0


def ferret_prompt(question: str, im_start_end: bool = False) -> str:
    """The ``ferret_v1`` prompt for one question (its system sentence ends with a space; the
    conversation adds another before ``USER:``)."""
    image = IM_START + IMAGE + IM_END if im_start_end else IMAGE
    return f"{SYSTEM} USER: {image}\n{question} ASSISTANT:"


def region_mask(box: Box, image_size: tuple[int, int]) -> Any:
    """Ferret's region mask for one box: ``(W, H)``, indexed ``[x, y]``, ones on the box's pixels.

    Corners are ``int(v * W)``/``int(v * H)`` like Ferret's evaluation, inclusive at both ends and
    clamped into the image, so even a zero-area box marks one pixel.
    """
    import torch

    width, height = image_size
    x1, x2 = (min(width - 1, max(0, int(v * width))) for v in (box.x1, box.x2))
    y1, y2 = (min(height - 1, max(0, int(v * height))) for v in (box.y1, box.y2))
    mask = torch.zeros((width, height))
    mask[x1:x2 + 1, y1:y2 + 1] = 1
    return mask


class FerretAdapter(PackageAdapter):
    name = "ferret"
    description = ("Ferret (apple/ml-ferret) via its own package; squashed to 336, [x1, y1, x2, y2] on 0-999, "
                   "region masks")
    install = "git clone https://github.com/apple/ml-ferret && pip install -e ./ml-ferret"
    package = "ferret"
    requires = ("ferret", "torch", "transformers")
    default_box_format = "ferret"

    def load(self, pretrained: str | None = None, device: str | None = None, dtype: str | None = None,
             device_map: str | None = None, model_base: str | None = None, region_features: bool = True) -> None:
        """Ferret's own loader takes no attention implementation, revision or remote code, so those
        arguments are not offered."""
        import torch
        from ferret.constants import IMAGE_TOKEN_INDEX
        from ferret.mm_utils import tokenizer_image_token
        from ferret.model.builder import load_pretrained_model

        self.options = HFLoadOptions.from_args(self.name, pretrained, device, dtype, device_map)
        try:  # the name must contain "ferret" for the builder to build the multimodal class
            device_map = self.options.device_map or {"": self.options.device}
            tokenizer, model, image_processor, _ = load_pretrained_model(self.options.pretrained, model_base, "ferret",
                                                                         device_map=device_map)
        except (AssertionError, RuntimeError) as exc:  # its builder moves the vision tower to CUDA
            raise ModelLoadError(f"Ferret's loader failed ({exc}); it places the vision tower on a CUDA GPU") from None
        if self.options.dtype != "auto":
            model.to(getattr(torch, self.options.dtype))
        model.get_vision_tower().to(device=model.device, dtype=model.dtype)
        self.model, self.tokenizer, self.image_processor = model.eval(), tokenizer, image_processor
        self.eos_ids = (tokenizer.eos_token_id,)
        self.tokenizer_image_token, self.image_token_index = tokenizer_image_token, IMAGE_TOKEN_INDEX
        self.im_start_end = bool(getattr(model.config, "mm_use_im_start_end", False))
        self.region_features = bool(region_features) and getattr(model.config, "im_region_fea_token", None) is not None

    def default_frame(self) -> Frame:
        return OriginalFrame()

    @classmethod
    def frame_summary(cls) -> str:
        return "ferret / original (squashed to 336)"

    def declare_format(self, box_format: str | None, frame: str | None) -> BoxFormat:
        """Ferret's format writes ``<region_fea>`` after referring boxes only when the masks are passed."""
        fmt = super().declare_format(box_format, frame)
        if "region_token" in fmt.settings and not self.region_features:
            fmt = type(fmt)(frame=fmt.frame, **{**fmt.settings, "region_token": False})
        return fmt

    def input_size(self) -> tuple[int, int]:
        """The tower's square input (its processor's crop size; 336 for the published checkpoints)."""
        crop = getattr(self.image_processor, "crop_size", None) or {}
        return int(crop.get("width", INPUT_SIZE)), int(crop.get("height", INPUT_SIZE))

    def pixels(self, image: Any) -> Any:
        """The framed image squashed straight to the input size (bicubic, as the CLIP processor resizes),
        then only rescaled and normalized by the processor."""
        squashed = self.image_frame.prepare_image(image.convert("RGB")).resize(self.input_size(), resample=3)
        batch = self.image_processor(images=[squashed], do_resize=False, do_center_crop=False, return_tensors="pt")
        return batch["pixel_values"].to(self.model.device, dtype=self.model.dtype)

    def region_masks(self, request: Request) -> list[Any] | None:
        """One mask per ``<region_fea>`` of the question, in the order of the referring boxes."""
        wanted = request.question.count(REGION_TOKEN)
        if not wanted:
            return None
        boxes = [box for grounding in request.referring for box in grounding.boxes]
        if len(boxes) != wanted:
            raise GiqaError(f"doc {request.doc_id}: the question holds {wanted} {REGION_TOKEN} tokens but "
                            f"{len(boxes)} referring boxes; each token needs its box's region mask")
        return [region_mask(box, request.image_size).to(self.model.device, dtype=self.model.dtype) for box in boxes]

    def prompt_ids(self, request: Request) -> Any:
        """The package's tokenization of the prompt, the image as its placeholder id."""
        prompt = ferret_prompt(request.question, self.im_start_end)
        return self.tokenizer_image_token(prompt, self.tokenizer, self.image_token_index, return_tensors="pt")

    def prompt_text(self, request: Request) -> str:
        from .prompt_text import decode_prompt

        return decode_prompt(self.tokenizer, self.prompt_ids(request).tolist(), {self.image_token_index: IMAGE})

    def embed_prompt(self, request: Request) -> PromptEmbedding:
        import torch

        input_ids = self.prompt_ids(request)[None].to(self.model.device)
        masks = self.region_masks(request) if self.region_features else None
        devices = [self.model.device] if self.model.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.inference_mode():
            torch.manual_seed(REGION_SEED)  # the region sampler's random points, the same in any batch
            out = self.model.prepare_inputs_labels_for_multimodal(
                input_ids, torch.ones_like(input_ids), None, None, self.pixels(request.image),
                region_masks=None if masks is None else [masks])
        return PromptEmbedding(out[3][0])

    def step(self, embeds: Any, attention_mask: Any, position_ids: Any, past: Any, extras: Any) -> tuple[Any, Any]:
        out = self.model.get_model()(inputs_embeds=embeds, attention_mask=attention_mask, position_ids=position_ids,
                                     past_key_values=past, use_cache=True, return_dict=True)
        return self.model.lm_head(out.last_hidden_state[:, -1]), out.past_key_values

    def embed_tokens(self, token_ids: Any) -> Any:
        return self.model.get_model().embed_tokens(token_ids)


@hookimpl
def register_models(register: Any) -> None:
    register(FerretAdapter)
