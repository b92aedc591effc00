"""giqa_synth: reproducible to the byte, GIQA-Bench's exact composition, boxes on the grid, and
references that follow exactly from the degradations that were applied."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from giqa_harness.boxes.formats.grid import GridFormat, encode_box, snap_to_grid
from giqa_harness.errors import ConfigError
from giqa_harness.synth import DEFAULT_SEED, GENERATOR_VERSION, bench_folder, ensure_bench, generate
from giqa_harness.synth.degrade import CONFUSABLE, Degradation, apply_all
from giqa_harness.synth.regions import Region
from giqa_harness.synth.sources import make_base

GRID = GridFormat()


@pytest.fixture(scope="module")
def bench():
    folder = ensure_bench()
    records = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    annotations = {a["image"]: a for a in map(json.loads, (folder / "annotations.jsonl").read_text().splitlines())}
    return folder, records, annotations


def region_of(cells) -> Region:
    (l, r) = cells
    return Region(l % 20, l // 20, r % 20, r // 20)


def test_regenerating_gives_byte_identical_files(bench, tmp_path):
    folder, _, _ = bench
    manifest = generate(tmp_path / "again", DEFAULT_SEED)
    assert manifest == json.loads((folder / "manifest.json").read_text())
    for relative, digest in manifest["files"].items():  # the manifest hashes the bytes on disk
        assert hashlib.sha256((tmp_path / "again" / relative).read_bytes()).hexdigest() == digest
    assert len([f for f in manifest["files"] if f.startswith("images/")]) == 100


def test_the_cache_is_keyed_by_generator_version_and_seed(bench, tmp_path):
    folder, _, _ = bench
    assert folder == bench_folder() and folder.name == f"v{GENERATOR_VERSION}"
    assert bench_folder(7, tmp_path).name == f"v{GENERATOR_VERSION}-seed7"
    before = (folder / "manifest.json").stat().st_mtime_ns
    assert ensure_bench() == folder and (folder / "manifest.json").stat().st_mtime_ns == before  # not regenerated
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging folder left behind


# Builds the bench into the folder given, announcing the first image of its staging folder.
_KILLED_BUILD = """
import sys
from pathlib import Path
import giqa_harness.synth.build as build

real = build._write_png
def write_png(path, pixels):
    real(path, pixels)
    print("image", flush=True)
    sys.stdin.readline()  # wait to be killed with a half-built staging folder

build._write_png = write_png
build.ensure_bench(0, Path(sys.argv[1]))
"""


def fake_generate(folder, seed):
    (folder / "images").mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")


def test_a_killed_build_leaves_a_staging_folder_that_the_next_call_removes(tmp_path, monkeypatch):
    import signal
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", _KILLED_BUILD, str(tmp_path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "image"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    (staging,) = [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert (staging / "images" / "000.png").is_file() and not (staging / "manifest.json").exists()
    assert not bench_folder(0, tmp_path).exists()

    monkeypatch.setattr("giqa_harness.synth.build.generate", fake_generate)  # the rebuild itself is tested above
    folder = ensure_bench(0, tmp_path)
    assert (folder / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # the killed build's folder is gone


def test_a_bench_folder_without_its_manifest_is_rebuilt(tmp_path, monkeypatch):
    folder = bench_folder(0, tmp_path)
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "000.png").write_bytes(b"\x89PNG cut short")
    monkeypatch.setattr("giqa_harness.synth.build.generate", fake_generate)
    assert ensure_bench(0, tmp_path) == folder
    assert (folder / "manifest.json").is_file() and not (folder / "images" / "000.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]


@pytest.mark.parametrize("seed", ["../../etc", -1, 1.5, True])
def test_the_seed_must_be_a_non_negative_integer(seed, tmp_path):
    with pytest.raises(ConfigError, match="builder_args.seed"):
        ensure_bench(seed, tmp_path)


def test_another_seed_draws_other_crops_and_degradations():
    a, b = (make_base(3, np.random.default_rng([seed, 3])) for seed in (0, 1))
    assert a.source == b.source and (a.crop, a.mirrored, a.pixels.shape) != (b.crop, b.mirrored, b.pixels.shape)


def test_composition_is_exactly_giqa_benchs(bench):
    _, records, annotations = bench
    count = lambda **kv: sum(all(r.get(k) == v for k, v in kv.items()) for r in records)  # noqa: E731
    assert len(annotations) == 100 and len({r["image"] for r in records}) == 100
    assert count(kind="des") == 100
    assert count(kind="vqa_yn") == 90 and count(qtype="yes") == 35 and count(qtype="no") == 55
    assert count(kind="vqa_w") == 60 and (count(qtype="what"), count(qtype="why"), count(qtype="how")) == (30, 18, 12)
    assert count(mode="referring") > 0 and count(mode="grounding") > 0
    assert len({r["id"] for r in records}) == 250


def test_records_follow_the_dataset_schema_and_stay_inside_the_folder(bench):
    from giqa_harness.datasets import load_docs
    from giqa_harness.task import task_index

    folder, records, _ = bench
    for r in records:
        assert set(r) <= {"id", "image", "question", "answer", "kind", "qtype", "mode", "image_size"}
        assert r["image"].startswith("images/") and ".." not in r["image"]
        with Image.open(folder / r["image"]) as im:
            assert list(im.size) == r["image_size"]
    task = task_index().resolve(["giqa_synth_vqa"])[0]
    docs = load_docs(task)
    assert len(docs) == 150 and all(Path(d.image).resolve().is_relative_to(folder.resolve()) for d in docs)


def test_every_box_is_snapped_to_the_grid_and_at_least_two_cells_each_way(bench):
    _, records, _ = bench
    boxes = [b for r in records for text in (r["question"], r["answer"])
             for b in GRID.parse(text, tuple(r["image_size"])).boxes]
    assert len(boxes) > 200
    for box in boxes:
        assert snap_to_grid(box) == box
        left, right = encode_box(box)
        assert right % 20 - left % 20 >= 2 and right // 20 - left // 20 >= 2


def test_reference_boxes_are_exactly_the_degraded_regions(bench):
    _, records, annotations = bench
    for r in records:
        local = {tuple(d["region"]["cells"]) for d in annotations[r["image"]]["degradations"] if d["region"]}
        answer_cells = {encode_box(b) for b in GRID.parse(r["answer"], (1, 1)).boxes}
        if r["kind"] == "des":
            assert answer_cells == local  # every localized degradation is described with its box
        else:
            assert answer_cells <= local


def test_yes_means_applied_there_and_no_is_a_true_negative(bench):
    _, records, annotations = bench
    by_id = {r["id"]: r for r in records}
    checked = 0
    for a in annotations.values():
        degradations = [Degradation(d["kind"], d["severity"], region_of(d["region"]["cells"]) if d["region"] else None)
                        for d in a["degradations"]]
        for q in a["vqa"]:
            record = by_id[q["id"]]
            if record["qtype"] not in ("yes", "no"):
                continue
            asked = GRID.parse(record["question"], (1, 1)).boxes
            assert [encode_box(b) for b in asked] == ([tuple(q["cells"])] if q["cells"] else [])
            region = region_of(q["cells"]) if q["cells"] else None
            there = [d for d in degradations if region is None or d.region is None or not d.region.separated_from(region, 0)]
            if record["qtype"] == "yes":
                assert any(d.kind == q["asks"] and (region is None or d.region == region) for d in there)
            else:
                assert not any(q["asks"] in CONFUSABLE[d.kind] for d in there)
            assert record["answer"].split()[0].strip(".,;:").lower() == record["qtype"]
            checked += 1
    assert checked == 90


def test_degradations_change_exactly_their_regions(bench):
    folder, _, annotations = bench
    for index in (0, 1, 2, 3):
        a = annotations[f"images/{index:03d}.png"]
        base = make_base(index, np.random.default_rng([DEFAULT_SEED, index]))
        globals_only = [Degradation(d["kind"], d["severity"], None, d["params"]) for d in a["degradations"]
                        if d["region"] is None]
        expected = apply_all(base.pixels, globals_only).astype(int)
        with Image.open(folder / a["image"]) as im:
            actual = np.asarray(im.convert("RGB")).astype(int)
        changed = np.abs(actual - expected).max(axis=-1) > 0
        inside = np.zeros_like(changed)
        for d in a["degradations"]:
            if d["region"]:
                x0, y0, x1, y1 = region_of(d["region"]["cells"]).pixels(tuple(a["size"]))
                inside[y0:y1, x0:x1] = True
                assert changed[y0:y1, x0:x1].mean() > 0.3, (index, d["kind"])
        assert not changed[~inside].any(), index


def test_wording_varies_from_sample_to_sample(bench):
    _, records, _ = bench
    des = [r for r in records if r["kind"] == "des"]
    assert len({r["question"] for r in des}) >= 12
    openings = {" ".join(GRID.parse(r["answer"], (1, 1)).plain.split()[:3]) for r in des}
    assert len(openings) >= 30
    vqa_answers = {r["answer"] for r in records if r["kind"] != "des"}
    assert len(vqa_answers) >= 100


def test_references_replayed_as_answers_score_perfectly(bench, tmp_path):
    from giqa_harness.evaluator import RunConfig, evaluate
    from giqa_harness.synth.baselines import write_replay

    folder, _, _ = bench
    replay = write_replay(folder, "reference", tmp_path / "reference.jsonl")
    results = evaluate(RunConfig(model="replay", model_args={"path": str(replay)}, tasks=["giqa_synth"],
                                 progress=False, bootstrap=0))["results"]
    for task, names in (("giqa_synth_des", ("miou", "tag_recall")), ("giqa_synth_vqa", ("miou", "tag_recall", "acc_y"))):
        assert results[task]["n_failed"] == 0
        for name in names:
            assert results[task]["metrics"][name]["value"] == pytest.approx(1.0), (task, name)
