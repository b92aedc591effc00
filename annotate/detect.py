"""Stage 2, detection: an open-vocabulary detector finds each key object's T_r in the image.

Detectors are plugins (the ``register_detectors`` hook); the built-in one is Grounding DINO through
transformers' ``GroundingDinoForObjectDetection`` — the same published checkpoints as the original
code (``IDEA-Research/grounding-dino-tiny``, ``-base``), without its torchvision dependency. Each phrase
is its own query (the paper queries with T_r, not the bare class name, so that "the man in white" does
not return every person), so every box belongs to exactly one phrase.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from giqa_harness.boxes.geometry import Box
from giqa_harness.errors import ConfigError

from .records import Detection

if TYPE_CHECKING:
    from PIL import Image


class Detector(ABC):
    """Base class of detectors: ``detect(image, phrases)`` -> the boxes of each phrase, best first."""

    name: ClassVar[str]
    description: ClassVar[str] = ""

    @abstractmethod
    def detect(self, image: "Image.Image", phrases: Sequence[str]) -> list[list[Detection]]:
        """One list of detections per phrase (same order), in original-image coordinates."""

    def identity(self) -> dict[str, Any]:
        """What determines the boxes (goes into the stage cache key)."""
        return {"detector": self.name}

    def close(self) -> None:
        """Release the model."""


def build_detector(name: str, args: dict[str, Any]) -> Detector:
    """The registered detector ``name`` built with ``--detector_args``."""
    from giqa_harness.plugins import registry

    cls = registry().detectors.get(name)
    try:
        return cls(**args)
    except TypeError as exc:
        raise ConfigError(f"detector {name!r}: bad --detector_args ({exc})") from None


def query_text(phrase: str) -> str:
    """Grounding DINO reads lowercase text with each query ended by a full stop."""
    text = " ".join(phrase.lower().split()).rstrip(" .")
    return f"{text}."


class GroundingDinoDetector(Detector):
    """Grounding DINO (transformers-native).

    ``pretrained``: a local folder or hub id; ``box_threshold``/``text_threshold``: the original demo's
    defaults (0.35 / 0.25) — a box is kept when its best token score passes ``box_threshold`` and some
    token of the phrase passes ``text_threshold``; ``max_boxes``: at most this many boxes per phrase,
    highest score first; ``batch_size``: phrases per forward pass.
    """

    name = "grounding_dino"
    description = "Grounding DINO via transformers' GroundingDinoForObjectDetection (queried with T_r)"

    def __init__(self, pretrained: str = "IDEA-Research/grounding-dino-tiny", box_threshold: float = 0.35,
                 text_threshold: float = 0.25, max_boxes: int = 10, batch_size: int = 8, device: str | None = None,
                 dtype: str | None = None) -> None:
        from giqa_harness.model_adapters.hf_common import (
            HFLoadOptions, load_model, load_processor, require_transformers,
        )

        require_transformers("the grounding_dino detector")
        for key, value in (("box_threshold", box_threshold), ("text_threshold", text_threshold)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ConfigError(f"detector grounding_dino: {key} must be a number in [0, 1], got {value!r}")
        for key, value in (("max_boxes", max_boxes), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"detector grounding_dino: {key} must be a positive integer, got {value!r}")
        self.options = HFLoadOptions.from_args(self.name, pretrained, device=device, dtype=dtype)
        from transformers import GroundingDinoForObjectDetection

        self.processor = load_processor(self.options)
        # A BERT text encoder: padding goes on the right (load_processor sets left, which decoders need).
        self.processor.tokenizer.padding_side = "right"
        self.model = load_model(GroundingDinoForObjectDetection, self.options)
        self.box_threshold, self.text_threshold = float(box_threshold), float(text_threshold)
        self.max_boxes, self.batch_size = max_boxes, batch_size

    def identity(self) -> dict[str, Any]:
        return {"detector": self.name, "pretrained": self.options.pretrained, "fingerprint": self.options.fingerprint(),
                "box_threshold": self.box_threshold, "text_threshold": self.text_threshold,
                "max_boxes": self.max_boxes}

    def detect(self, image: "Image.Image", phrases: Sequence[str]) -> list[list[Detection]]:
        import torch

        width, height = image.size
        out: list[list[Detection]] = []
        for start in range(0, len(phrases), self.batch_size):
            chunk = [query_text(p) for p in phrases[start : start + self.batch_size]]
            inputs = self.processor(images=[image] * len(chunk), text=chunk, padding=True, return_tensors="pt")
            # Pixels follow the model's dtype (a bf16/fp16 checkpoint would reject float32 pixels).
            inputs = {k: v.to(self.model.device, dtype=self.model.dtype) if v.is_floating_point()
                      else v.to(self.model.device) for k, v in inputs.items()}
            with torch.inference_mode():
                outputs = self.model(**inputs)
            # Token ids as Python ints: decoding each box's label from tensor elements converts them one
            # by one, which took longer than the model's decoder on the tiny test model.
            results = self.processor.post_process_grounded_object_detection(
                outputs, inputs["input_ids"].tolist(), threshold=self.box_threshold, text_threshold=self.text_threshold,
                target_sizes=[(height, width)] * len(chunk),
            )
            for result in results:
                found = []
                rows = zip(result["scores"].tolist(), result["boxes"].tolist(), result["text_labels"])
                for score, box, label in rows:
                    normalized = Box.from_corners(box[0] / width, box[1] / height, box[2] / width, box[3] / height)
                    if normalized is not None and label.strip():
                        found.append(Detection(normalized, float(score)))
                found.sort(key=lambda d: -d.score)
                out.append(found[: self.max_boxes])
        return out

    def close(self) -> None:
        self.model = None
