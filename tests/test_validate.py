"""``validate --data``: every record and every image is checked without running a model."""

from __future__ import annotations

import json

from PIL import Image

from giqa_harness.cli import main

RECORD = {"id": "a", "image": "good.png", "question": "Is the [sky](<0, 59>) bright?", "answer": "Yes.",
          "kind": "vqa_yn", "qtype": "yes"}


def write_task(folder, records):
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), (10, 200, 30)).save(folder / "good.png")
    (folder / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    path = folder / "t.yaml"
    path.write_text("task: data_check_task\ndataset: {path: ., file: data.jsonl}\nmetrics: [acc_y]\n")
    return path


def test_a_clean_dataset_passes(tmp_path, capsys):
    assert main(["validate", "--data", str(write_task(tmp_path, [RECORD]))]) == 0
    assert "ok   data_check_task" in capsys.readouterr().out


def test_a_truncated_image_is_found_although_its_header_reads(tmp_path, capsys):
    path = write_task(tmp_path, [RECORD, {**RECORD, "id": "b", "image": "cut.png"}])
    noisy = Image.effect_noise((64, 64), 80).convert("RGB")  # noise: a PNG too big to end in its header
    noisy.save(tmp_path / "whole.png")
    data = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with Image.open(tmp_path / "cut.png") as im:
        assert im.size == (64, 64)  # what a run reads before generating: the header alone is fine
    assert main(["validate", "--data", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"image {tmp_path / 'cut.png'} cannot be decoded" in out
    assert "good.png" not in out


def test_missing_images_and_a_wrong_declared_size_are_named(tmp_path, capsys):
    path = write_task(tmp_path, [{**RECORD, "image_size": [30, 40]}, {**RECORD, "id": "b", "image": "gone.png"}])
    assert main(["validate", "--data", str(path)]) == 1
    out = capsys.readouterr().out
    assert "1 images missing, e.g." in out and "gone.png" in out
    assert "record 'a': image_size [30, 40] but" in out and "is 40x30" in out


def test_bad_boxes_and_duplicates_are_listed_with_file_line_and_field(tmp_path, capsys):
    path = write_task(tmp_path, [RECORD, {**RECORD, "id": "b", "answer": "The [sky](<nan, 3>)."}, RECORD])
    assert main(["validate", "--data", str(path)]) == 1
    out = capsys.readouterr().out
    data = tmp_path / "data.jsonl"
    assert f"- {data}:2: field 'answer': box '<nan, 3>'" in out and "NaN or infinite" in out


def test_a_broken_task_file_in_a_registered_folder_breaks_nothing_else(tmp_path, plugin, capsys):
    """An include cycle, a non-UTF-8 byte: `list tasks` and `validate` report it, the other tasks work,
    and asking for the task the file would define gives its error rather than "unknown task"."""
    from giqa_harness.testing.bench import task_plugin

    folder = tmp_path / "tasks"
    write_task(folder, [RECORD])
    (folder / "cycle_a.yaml").write_text("task: cycle_a\ninclude: cycle_b.yaml\n")
    (folder / "cycle_b.yaml").write_text("task: cycle_b\ninclude: cycle_a.yaml\n")
    (folder / "latin.yaml").write_bytes(b"task: latin_task\ndescription: caf\xe9\n")
    plugin(task_plugin(folder), name="broken_task_files")

    assert main(["list", "tasks"]) == 0
    out = capsys.readouterr().out
    assert "data_check_task" in out and "include cycle: cycle_a.yaml -> cycle_b.yaml -> cycle_a.yaml" in out
    assert "latin.yaml:2: not UTF-8" in out

    assert main(["validate"]) == 1
    out = capsys.readouterr().out
    assert "ok   data_check_task" in out and "ok   giqa_des" in out and "FAIL " in out and "not UTF-8" in out

    assert main(["validate", "latin_task", "data_check_task"]) == 1
    out = capsys.readouterr().out
    assert "FAIL latin_task: task 'latin_task' cannot be loaded:" in out and "ok   data_check_task" in out

    assert main(["--model", "replay", "--tasks", "cycle_b"]) == 2
    err = capsys.readouterr().err
    assert "task 'cycle_b' cannot be loaded" in err and "include cycle" in err and "unknown task" not in err


def test_a_score_tasks_truncated_image_is_found_as_a_grounding_tasks_is(tmp_path, capsys):
    data = tmp_path / "kadid"
    (data / "images").mkdir(parents=True)
    Image.new("RGB", (16, 12), (90, 90, 90)).save(data / "images" / "whole.png")
    noisy = Image.effect_noise((64, 64), 80).convert("RGB")
    noisy.save(tmp_path / "noisy.png")
    cut = (tmp_path / "noisy.png").read_bytes()
    (data / "images" / "cut.png").write_bytes(cut[: len(cut) // 2])
    (data / "dmos.csv").write_text("dist_img,ref_img,dmos,var\nwhole.png,ref.png,3.1,0.1\ncut.png,ref.png,2.2,0.1\n")
    path = tmp_path / "score.yaml"
    path.write_text(f"task: score_check_task\ndataset: {{path: {data}}}\nscoring: {{kind: level, loader: kadid10k}}\n")
    assert main(["validate", "--data", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"image {data / 'images' / 'cut.png'} cannot be decoded" in out and "whole.png" not in out
