"""``depictqa``: DepictQA-Wild (XPixelGroup/DepictQA) through its own code (``src/model/depictqa.py``).

    giqa-harness --model depictqa --model_args pretrained=zhiyuanyou/DepictQA2-DQ495K,llm=lmsys/vicuna-7b-v1.5 \\
        --tasks giqa_des

``pretrained`` is the delta checkpoint (a ``.pt`` file, a folder holding one, or a hub id);
``llm`` the Vicuna-7B-v1.5 it was trained on; ``vision_encoder`` the OpenAI CLIP ViT-L/14 file (or the
name ``ViT-L/14``, which DepictQA's loader downloads); ``config`` an experiment's ``config.yaml`` from
the repository (its ``model`` and ``vision_preprocess`` sections; default: the DQ495K settings; a
``config.yaml`` beside the checkpoint is used when present). DepictQA writes no boxes
(``emits_boxes = False``: mIoU and Tag-Recall are N/A); a referring box in a question is written as
plain 0-1 floats of the original image.

Facts from XPixelGroup/DepictQA (see docs/adapters.md), for one image without a reference
(``quality_single_A_noref``): the embeddings are BOS, the text ``{system}\\n\\n </s> Image: <Img>``, the
image's CLIP patch features, then ``</Img>\\n\\n </s> USER: {question}\\n   ASSISTANT: ``; the image keeps
its aspect ratio (short side 224, long side at most 672, padded to multiples of 14); answers end at
``</s>``; its inference is greedy (temperature 0) with up to 400 new tokens. Its own batched inference
leaves padding unmasked; here each prompt is embedded alone and the batch is left-padded with a mask.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from giqa_harness.boxes.frames import Frame, OriginalFrame
from giqa_harness.errors import ConfigError, ModelLoadError
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import Request

from .embeds_decoding import PromptEmbedding
from .hf_common import default_device
from .package_common import PackageAdapter

INSTALL = ("git clone https://github.com/XPixelGroup/DepictQA && pip install -r DepictQA/requirements.txt "
           "&& export PYTHONPATH=$PWD/DepictQA/src:$PYTHONPATH")
BASE = ("A chat between a curious human and an artificial intelligence assistant. "
        "The assistant gives helpful, detailed, and polite answers to the human's questions.")
QUALITY = " As an AI assistant, you are performing an image quality assessment task."
SYSTEMS = {"quality_single_A_noref": BASE + QUALITY}
TURN_SEP = " </s> "  # its separators: f" {sep} " of the Vicuna v1 conversation (sep " ", sep2 "</s>")
ROLE_SEP = "   "

# The DQ495K experiment's settings (experiments/DQ495K/config.yaml), used when no config is given.
DEFAULT_SETTINGS = {
    "model": {
        "vision_feature_type": "local", "llm_conv_type": "vicuna_v1", "unique_tag": True,
        "lora": {"lora_r": 16, "lora_alpha": 16, "lora_dropout": 0.1,
                 "lora_target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]},
    },
    "vision_preprocess": {"patch_size": 14, "resize": 224, "max_size": 672, "crop_ratio": [0.7, 1.0],
                          "keep_ratio": True},
    "train": {"max_tokens": 512},
}


def depictqa_texts(question: str, task_type: str = "quality_single_A_noref") -> tuple[str, str]:
    """The text before and after the image features (BOS comes first, added as a token)."""
    if task_type not in SYSTEMS:
        raise ConfigError(f"depictqa task_type {task_type!r} is not supported; use one of {', '.join(SYSTEMS)}")
    before = f"{SYSTEMS[task_type]}\n\n{TURN_SEP}Image: <Img>"
    after = f"</Img>\n\n{TURN_SEP}USER: {question}\n{ROLE_SEP}ASSISTANT: "
    return before, after


class Settings(dict):
    """A mapping whose keys also read as attributes, as DepictQA's code reads its YAML config."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__({k: Settings(v) if isinstance(v, dict) else v for k, v in data.items()})

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def find_delta(pretrained: str, revision: str | None = None) -> Path:
    """The ``.pt`` delta checkpoint named by a file, a folder holding one, or a hub id."""
    path = Path(pretrained).expanduser()
    if path.is_file():
        return path
    if not path.exists():
        if pretrained.startswith((".", "/", "~")) or pretrained.count("/") != 1:
            raise ConfigError(f"model 'depictqa': checkpoint {pretrained} does not exist")
        from huggingface_hub import snapshot_download

        try:
            path = Path(snapshot_download(pretrained, revision=revision, allow_patterns=["*.pt", "*.yaml"]))
        except Exception as exc:  # offline, unknown id, no access
            raise ModelLoadError(f"cannot fetch {pretrained}: {exc}") from None
    found = sorted(path.rglob("*.pt"))
    if not found:
        raise ConfigError(f"model 'depictqa': no .pt delta checkpoint under {path}")
    return next((p for p in found if p.name == "ckpt.pt"), found[0])


def build_settings(delta: Path, config: str | None, llm: str | None, vision_encoder: str | None) -> Settings:
    """DepictQA's config: an experiment's YAML (given, or beside the checkpoint) or the DQ495K defaults,
    with the model paths from the model arguments (relative YAML paths resolved from its folder)."""
    import yaml

    source = Path(config).expanduser() if config else next(
        (p for p in (delta.parent / "config.yaml", delta.parent.parent / "config.yaml") if p.is_file()), None)
    settings = {k: dict(v) for k, v in DEFAULT_SETTINGS.items()}
    if source is not None:
        try:
            loaded = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"model 'depictqa': cannot read config {source}: {exc}") from None
        for section in ("model", "vision_preprocess", "train"):
            settings[section].update(loaded.get(section) or {})

    def resolve(value: str | None) -> str | None:
        if value and source is not None and value.startswith("."):
            return str((source.parent / value).resolve())
        return value

    model = settings["model"]
    model["llm_path"] = llm or resolve(model.get("llm_path"))
    model["vision_encoder_path"] = vision_encoder or resolve(model.get("vision_encoder_path")) or "ViT-L/14"
    if not model["llm_path"]:
        raise ConfigError("model 'depictqa' needs --model_args llm=<Vicuna-7B-v1.5 folder or hub id>")
    model["delta_path"] = str(delta)
    return Settings(settings)


class DepictQAAdapter(PackageAdapter):
    name = "depictqa"
    description = "DepictQA-Wild (XPixelGroup/DepictQA) via its own code; quality descriptions without boxes"
    install = INSTALL
    package = "model.depictqa"
    requires = ("model.depictqa", "torch", "transformers")
    emits_boxes = False
    default_box_format = "llava15"

    def load(self, pretrained: str | None = None, llm: str | None = None, vision_encoder: str | None = None,
             config: str | None = None, task_type: str = "quality_single_A_noref", device: str | None = None,
             dtype: str | None = None, revision: str | None = None) -> None:
        import torch
        from model.depictqa import DepictQA

        if not pretrained:
            raise ConfigError("model 'depictqa' needs --model_args pretrained=<delta .pt, folder or hub id>")
        depictqa_texts("", task_type)  # an unsupported task type fails now, not at the first request
        device = device or default_device()
        dtype = dtype or ("float16" if device.startswith("cuda") else "float32")  # its own inference: .half()
        if dtype not in ("float16", "bfloat16", "float32"):
            raise ConfigError(f"model 'depictqa': dtype must be float16, bfloat16 or float32, got {dtype!r}")
        self.task_type = task_type
        settings = build_settings(find_delta(str(pretrained), revision), config, llm, vision_encoder)
        self.settings = settings
        try:
            model = DepictQA(settings, training=False)  # its code places the CLIP preprocessing on CUDA
            delta = torch.load(settings.model.delta_path, map_location="cpu")
            model.load_state_dict(delta, strict=False)
        except (AssertionError, RuntimeError) as exc:
            raise ModelLoadError(f"DepictQA failed to load ({exc}); its own code needs a CUDA GPU") from None
        self.model = model.eval().to(device, dtype=getattr(torch, dtype))
        self.tokenizer = model.tokenizer
        self.eos_ids = (self.tokenizer.eos_token_id,)

    def default_frame(self) -> Frame:
        return OriginalFrame()

    @classmethod
    def frame_summary(cls) -> str:
        return "(no boxes; referring boxes as llava15 / original)"

    def prompt_text(self, request: Request) -> str:
        """BOS, then the texts its code embeds around the image features (shown as ``<image>``)."""
        before, after = depictqa_texts(request.question, self.task_type)
        return f"{self.tokenizer.bos_token}{before}<image>{after}"

    def embed_prompt(self, request: Request) -> PromptEmbedding:
        import torch

        before, after = depictqa_texts(request.question, self.task_type)
        device = next(self.model.parameters()).device
        with torch.inference_mode():
            image = self.model.vision_preprocess(self.image_frame.prepare_image(request.image.convert("RGB")))
            features = self.model.clip_encode(image[None].to(device))[0]
            bos = self.embed_tokens(torch.tensor([[self.tokenizer.bos_token_id]], device=device))[0]
            text = [self.model.emb_text(part, 1)[0] for part in (before, after)]
        return PromptEmbedding(torch.cat([bos, text[0], features.to(bos.dtype), text[1]], dim=0))

    def step(self, embeds: Any, attention_mask: Any, position_ids: Any, past: Any, extras: Any) -> tuple[Any, Any]:
        out = self.model.llm(inputs_embeds=embeds, attention_mask=attention_mask, position_ids=position_ids,
                             past_key_values=past, use_cache=True, return_dict=True)
        return out.logits[:, -1], out.past_key_values

    def embed_tokens(self, token_ids: Any) -> Any:
        return self.model.llm.get_input_embeddings()(token_ids)


@hookimpl
def register_models(register: Any) -> None:
    register(DepictQAAdapter)
