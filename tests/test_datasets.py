"""Dataset records: clear errors that name the file, line and field; paths that cannot escape."""

from __future__ import annotations

import json

import pytest

from giqa_harness.datasets import load_docs
from giqa_harness.errors import DatasetError
from giqa_harness.task import TaskConfig


def task_for(root, file="data.jsonl", **kw):
    return TaskConfig(name="t", path=root / "t.yaml", dataset={"path": str(root), "file": file}, **kw)


def write_records(root, records, file="data.jsonl"):
    root.mkdir(parents=True, exist_ok=True)
    (root / file).write_text("\n".join(json.dumps(r) if isinstance(r, dict) else r for r in records) + "\n")


GOOD = {"id": "a", "image": "img.png", "question": "Is the [sky](<0, 59>) bright?", "answer": "Yes.",
        "kind": "vqa_yn", "qtype": "yes"}


def test_mode_is_derived_from_where_the_box_is(tmp_path):
    grounding = {**GOOD, "id": "b", "question": "Where is the blur?", "answer": "On the [car](<0, 21>).",
                 "kind": "vqa_w", "qtype": "what"}
    write_records(tmp_path, [GOOD, grounding])
    docs = load_docs(task_for(tmp_path))
    assert [d.mode for d in docs] == ["referring", "grounding"]
    assert docs[0].image == str((tmp_path / "img.png").resolve())


def test_invalid_json_names_file_and_line(tmp_path):
    write_records(tmp_path, [GOOD, "{not json"])
    with pytest.raises(DatasetError, match=r"data\.jsonl:2: invalid JSON"):
        load_docs(task_for(tmp_path))


@pytest.mark.parametrize("field,value,message", [
    ("kind", "caption", "field 'kind' is 'caption'"),
    ("qtype", "when", "field 'qtype' is 'when'"),
    ("question", 3, "field 'question' must be a string"),
    ("image_size", ["64", "48"], r"field 'image_size' must be \[width, height\] in pixels"),
    ("image_size", [64], r"field 'image_size' must be \[width, height\] in pixels"),
    ("image_size", [0, 48], r"field 'image_size' must be \[width, height\] in pixels"),
])
def test_bad_fields_are_named(tmp_path, field, value, message):
    write_records(tmp_path, [{**GOOD, field: value}])
    with pytest.raises(DatasetError, match=rf"data\.jsonl:1: {message}"):
        load_docs(task_for(tmp_path))


def test_missing_field_is_named(tmp_path):
    record = dict(GOOD)
    del record["answer"]
    write_records(tmp_path, [record])
    with pytest.raises(DatasetError, match=r"data\.jsonl:1: missing field 'answer'"):
        load_docs(task_for(tmp_path))


@pytest.mark.parametrize("image", ["../outside.png", "/etc/passwd", "sub/../../x.png"])
def test_image_paths_may_not_escape_the_dataset(tmp_path, image):
    write_records(tmp_path / "data", [{**GOOD, "image": image}])
    with pytest.raises(DatasetError, match="escapes the dataset folder"):
        load_docs(task_for(tmp_path / "data"))


def test_symlink_out_of_the_dataset_is_refused(tmp_path):
    (tmp_path / "secret.png").write_bytes(b"x")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "link.png").symlink_to(tmp_path / "secret.png")
    write_records(tmp_path / "data", [{**GOOD, "image": "link.png"}])
    with pytest.raises(DatasetError, match="escapes"):
        load_docs(task_for(tmp_path / "data"))


def test_duplicate_ids_name_the_file_and_both_lines(tmp_path):
    write_records(tmp_path, [GOOD, {**GOOD, "id": "b"}, GOOD])
    with pytest.raises(DatasetError) as info:
        load_docs(task_for(tmp_path))
    file = tmp_path / "data.jsonl"
    assert f"{file}:3: duplicate id 'a', first used at {file}:1" in str(info.value)


@pytest.mark.parametrize("field, text, problem", [
    ("answer", "The [sky](<nan, 59>) is bright.", "NaN or infinite"),
    ("answer", "The [sky](<-3, 59>) is bright.", "negative"),
    ("answer", "The [sky](<0, 420>) is bright.", "beyond the 20x20 grid"),
    ("answer", "The [sky](<399, 0>) is bright.", "inverted: x1 > x2"),
    ("question", "Is the [sky](<40, 19>) bright?", "inverted: y1 > y2"),
    ("question", "Is the [sky](<0; 59>) bright?", "is not two cell indices"),
    ("question", "Is the [sky](<0, 59> bright?", "does not parse"),
])
def test_bad_boxes_in_questions_and_references_name_file_line_and_field(tmp_path, field, text, problem):
    """The lenient grid parser would drop these (a vanished reference box, raw markup in the prompt) or
    swap them (an inverted box grown to another one): in a record they are errors."""
    write_records(tmp_path, [GOOD, {**GOOD, "id": "b", field: text}])
    with pytest.raises(DatasetError) as info:
        load_docs(task_for(tmp_path))
    (line,) = str(info.value).splitlines()
    assert line.startswith(f"{tmp_path / 'data.jsonl'}:2: field {field!r}: ") and problem in line


def test_every_bad_record_is_listed_at_once(tmp_path):
    bad = [{**GOOD, "id": f"r{i}", "answer": f"The [sky](<{400 + i}, 0>)."} for i in range(25)]
    write_records(tmp_path, [GOOD, *bad])
    with pytest.raises(DatasetError) as info:
        load_docs(task_for(tmp_path))
    lines = str(info.value).splitlines()
    assert len(lines) == 21 and lines[-1] == "... and 5 more"
    assert lines[0].startswith(f"{tmp_path / 'data.jsonl'}:2: field 'answer'")


def test_missing_benchmark_says_where_to_put_it_and_what_runs_without_it(tmp_path, monkeypatch):
    from giqa_harness.task import task_index

    monkeypatch.setenv("GIQA_BENCH_DIR", str(tmp_path / "nowhere"))
    task = task_index().resolve(["giqa_des"])[0]
    with pytest.raises(DatasetError) as info:
        load_docs(task)
    message = str(info.value)
    assert str(tmp_path / "nowhere") in message
    assert "GIQA_BENCH_DIR" in message and "giqa_synth" in message


def test_filter_and_limit_keep_file_order(tmp_path):
    recs = [{**GOOD, "id": f"r{i}", "kind": "vqa_yn" if i % 2 else "des"} for i in range(6)]
    write_records(tmp_path, recs)
    docs = load_docs(task_for(tmp_path, filter={"kind": ["vqa_yn"]}), limit=2)
    assert [d.doc_id for d in docs] == ["r1", "r3"]


def test_a_hugging_face_dataset_is_read_and_its_images_cached(tmp_path, monkeypatch):
    """The `hf_id` path: rows with PIL images are written once under the cache and read like local data."""
    import sys
    import types

    from PIL import Image

    calls = []

    def load_dataset(name, split):
        calls.append((name, split))
        return [{**GOOD, "id": "h1", "image": Image.new("RGB", (30, 20), (1, 2, 3))},
                {**GOOD, "id": "h2", "image": Image.new("RGB", (10, 40), (4, 5, 6)), "kind": "des"}]

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    monkeypatch.setenv("GIQA_HARNESS_CACHE", str(tmp_path / "cache"))
    task = TaskConfig(name="t", path=tmp_path / "t.yaml", dataset={"hf_id": "org/giqa-bench", "split": "test"},
                      filter={"kind": ["vqa_yn"]})
    docs = load_docs(task)
    assert calls == [("org/giqa-bench", "test")]
    assert [d.doc_id for d in docs] == ["h1"]
    with Image.open(docs[0].image) as im:
        assert im.size == (30, 20)
    assert str(tmp_path / "cache") in docs[0].image


def test_a_missing_datasets_package_is_named(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "datasets", None)
    task = TaskConfig(name="t", path=tmp_path / "t.yaml", dataset={"hf_id": "org/x"})
    with pytest.raises(DatasetError, match="pip install datasets"):
        load_docs(task)


def test_hugging_face_splits_do_not_share_cached_images(tmp_path, monkeypatch):
    """Ids restart in each split of many datasets: split B must not be handed split A's cached images."""
    import sys
    import types

    from PIL import Image

    colours = {"test": (255, 0, 0), "validation": (0, 0, 255)}

    def load_dataset(name, split):  # an id with a slash names a sub-folder of the image cache
        return [{**GOOD, "id": "set1/0", "image": Image.new("RGB", (8, 8), colours[split])}]

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    monkeypatch.setenv("GIQA_HARNESS_CACHE", str(tmp_path / "cache"))
    for split, colour in colours.items():
        task = TaskConfig(name="t", path=tmp_path / "t.yaml", dataset={"hf_id": "org/bench", "split": split})
        (doc,) = load_docs(task)
        with Image.open(doc.image) as im:
            assert im.convert("RGB").getpixel((0, 0)) == colour, split


def test_a_hugging_face_id_cannot_place_images_outside_the_cache(tmp_path, monkeypatch):
    import sys
    import types

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=lambda name, split: []))
    monkeypatch.setenv("GIQA_HARNESS_CACHE", str(tmp_path / "cache"))
    task = TaskConfig(name="t", path=tmp_path / "t.yaml", dataset={"hf_id": "..", "split": ".."})
    with pytest.raises(DatasetError, match="escapes"):
        load_docs(task)


def test_hugging_face_duplicates_name_both_rows(tmp_path, monkeypatch):
    import sys
    import types

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(
        load_dataset=lambda name, split: [{**GOOD, "image": "a.png"}, {**GOOD, "image": "b.png"}]))
    monkeypatch.setenv("GIQA_HARNESS_CACHE", str(tmp_path / "cache"))
    task = TaskConfig(name="t", path=tmp_path / "t.yaml", dataset={"hf_id": "org/bench"})
    with pytest.raises(DatasetError, match=r"org/bench\[1\]: duplicate id 'a', first used at org/bench\[0\]"):
        load_docs(task)
