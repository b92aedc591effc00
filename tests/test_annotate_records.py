"""Reading the annotation input: records, default ids, and errors that name the file and line."""

from __future__ import annotations

import json

import pytest

from giqa_harness.annotate.records import read_descriptions
from giqa_harness.errors import DatasetError


def write(tmp_path, rows):
    (tmp_path / "images").mkdir(exist_ok=True)
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path / "images", path


def test_records_keep_file_order_and_default_their_id_to_the_image(tmp_path):
    images, path = write(tmp_path, [{"image": "x/a.png", "description": " Sharp. "},
                                    {"id": "b2", "image": "b.png", "description": "Blurry."}])
    first, second = read_descriptions(images, path)
    assert (first.record_id, first.image, first.description) == ("x/a.png", "x/a.png", "Sharp.")
    assert first.image_path == (images / "x/a.png").resolve()
    assert second.record_id == "b2"


@pytest.mark.parametrize("rows, message", [
    ([{"image": "a.png"}], "d.jsonl:1: field 'description' must be a non-empty string"),
    ([{"image": "a.png", "description": "x"}, {"image": "a.png", "description": "y"}],
     "d.jsonl:2: id 'a.png' already used at"),
    ([{"image": "../escape.png", "description": "x"}], "escapes the dataset folder"),
    (["just text"], "d.jsonl:1: a record must be a JSON object"),
])
def test_bad_records_are_reported_with_file_and_line(tmp_path, rows, message):
    images, path = write(tmp_path, rows)
    with pytest.raises(DatasetError, match=message.replace("(", r"\(")):
        read_descriptions(images, path)


def test_missing_inputs_are_named(tmp_path):
    with pytest.raises(DatasetError, match="images folder"):
        read_descriptions(tmp_path / "nope", tmp_path / "d.jsonl")
    (tmp_path / "images").mkdir()
    with pytest.raises(DatasetError, match="descriptions file"):
        read_descriptions(tmp_path / "images", tmp_path / "d.jsonl")
