"""The pipeline's input records and the small value types its stages pass along.

Input: a JSONL (or JSON list) of ``{"id": ..., "image": "relative/path.png", "description": "..."}``
records; ``image`` is relative to the images folder and may not escape it; ``id`` defaults to the
image path (give ids when one image has several descriptions).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from giqa_harness.boxes.geometry import Box
from giqa_harness.datasets import iter_records, safe_join
from giqa_harness.errors import DatasetError

EFFECTS: tuple[str, ...] = ("no impact", "positive", "negative")


@dataclass(frozen=True)
class SourceRecord:
    """One image with its human-written quality description."""

    record_id: str
    image: str  # as written in the input, relative to the images folder
    image_path: Path
    description: str


@dataclass(frozen=True)
class Tag:
    """A key object of a description: T_r (the describing phrase), T_q (its quality), T_e (its effect)."""

    phrase: str
    quality: str
    effect: str

    def to_json(self) -> dict[str, str]:
        return {"T_r": self.phrase, "T_q": self.quality, "T_e": self.effect}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Tag":
        return cls(phrase=str(data["T_r"]), quality=str(data["T_q"]), effect=str(data["T_e"]))


@dataclass(frozen=True)
class Detection:
    """A box a detector found for a phrase, with the detector's confidence."""

    box: Box
    score: float

    def to_json(self) -> list[float]:
        return [*self.box.as_tuple(), self.score]

    @classmethod
    def from_json(cls, data: list[float]) -> "Detection":
        return cls(Box(*map(float, data[:4])), float(data[4]))


def read_descriptions(images_dir: Path, descriptions: Path) -> list[SourceRecord]:
    """The input records, in file order; errors name the file, line and field."""
    if not images_dir.is_dir():
        raise DatasetError(f"images folder {images_dir} does not exist")
    if not descriptions.is_file():
        raise DatasetError(f"descriptions file {descriptions} does not exist")
    records: list[SourceRecord] = []
    seen: dict[str, str] = {}
    for line, raw in iter_records(descriptions):
        where = f"{descriptions}:{line}"
        if not isinstance(raw, dict):
            raise DatasetError(f"{where}: a record must be a JSON object with 'image' and 'description'")
        for key in ("image", "description"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise DatasetError(f"{where}: field {key!r} must be a non-empty string")
        record_id = str(raw.get("id", raw["image"]))
        if record_id in seen:
            raise DatasetError(
                f"{where}: id {record_id!r} already used at {seen[record_id]}; give each record a unique 'id'"
            )
        seen[record_id] = where
        path = safe_join(images_dir, raw["image"], where)
        records.append(SourceRecord(record_id, raw["image"], path, raw["description"].strip()))
    return records
