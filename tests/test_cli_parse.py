"""``giqa-harness parse``: model answers to JSON, and ``--render`` boxes into a model's syntax."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from giqa_harness.cli import main

ANSWERS = {
    "giqa_grid": "The [dog](<250, 293>) is sharp.",
    "shikra": "The dog[0.100,0.200,0.300,0.400] is sharp.",
    "kosmos2": "<grounding> The<phrase> dog</phrase><object><patch_index_0044><patch_index_0863></object> is sharp.",
    "ferret": "The dog [100, 200, 300, 400] is sharp.",
    "groundinggpt": "The dog [0.100, 0.200, 0.300, 0.400] is sharp.",
    "llava15": "The dog [0.10, 0.20, 0.30, 0.40] is sharp.",
    "llava16": "The dog [0.10, 0.20, 0.30, 0.40] is sharp.",
    "owl2": "The dog [0.10, 0.20, 0.30, 0.40] is sharp.",
    "qwen_vl": "The <ref>dog</ref><box>(100,200),(300,400)</box> is sharp.",
    "qwen2_vl": "The <|object_ref_start|>dog<|object_ref_end|><|box_start|>(100,200),(300,400)<|box_end|> is sharp.",
    "qwen25_vl": 'The {"bbox_2d": [64, 95, 193, 190], "label": "dog"} is sharp.',
    "internvl": "The <ref>dog</ref><box>[[100, 200, 300, 400]]</box> is sharp.",
    "florence2": "The dog<loc_100><loc_200><loc_300><loc_400> is sharp.",
}


def run(capsys, *args):
    code = main(["parse", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_parse_prints_groundings_plain_text_and_dropped(capsys, name):
    code, out, _ = run(capsys, "--format", name, "--image-size", "640x480", ANSWERS[name])
    assert code == 0
    data = json.loads(out)
    assert data["format"]["name"] == name
    assert data["plain"] == "The dog is sharp."
    assert data["dropped"] == 0
    (g,) = data["groundings"]
    assert g["phrase"].endswith("dog")
    (box,) = g["boxes"]
    assert len(box) == 4 and all(isinstance(v, float) for v in box)


def test_frame_and_options_are_honoured(capsys):
    _, out, _ = run(capsys, "--format", "llava16", "--image-size", "200x100", "--frame", "pad_square",
                    "the dog [0.0, 0.25, 1.0, 0.75]")
    data = json.loads(out)
    assert data["format"]["frame"] == "pad_square:mean"
    assert data["groundings"][0]["boxes"] == [[0.0, 0.0, 1.0, 1.0]]  # the padding is undone


def test_text_can_come_from_stdin(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("a cat [100, 100, 200, 200]"))
    _, out, _ = run(capsys, "--format", "ferret", "--image-size", "10x10")
    assert json.loads(out)["groundings"][0]["phrase"] == "a cat"


def test_render_reads_json_groundings(capsys):
    code, out, _ = run(capsys, "--format", "kosmos2", "--image-size", "640x480", "--render",
                       '[{"phrase": "the dog", "boxes": [[0.1, 0.2, 0.3, 0.4]]}]')
    assert code == 0
    assert out.strip() == "<phrase>the dog</phrase><object><patch_index_0195><patch_index_0393></object>"


def test_render_reads_bare_boxes(capsys):
    _, out, _ = run(capsys, "--format", "ferret", "--image-size", "640x480", "--option", "region_token=false",
                    "--render", "0.1,0.2,0.3,0.4; 0.5,0.5,1,1")
    assert out.strip() == "[100, 200, 300, 400], [500, 500, 999, 999]"


def test_render_accepts_parse_output_so_answers_convert_between_formats(capsys):
    _, parsed, _ = run(capsys, "--format", "qwen_vl", "--image-size", "640x480", ANSWERS["qwen_vl"])
    _, out, _ = run(capsys, "--format", "giqa_grid", "--image-size", "640x480", "--render", parsed)
    assert out.strip().startswith("[dog](<")


@pytest.mark.parametrize("args, message", [
    (["--format", "ferret", "--image-size", "640", "x"], "--image-size"),
    (["--format", "nope", "--image-size", "640x480", "x"], "unknown box format"),
    (["--format", "ferret", "--image-size", "640x480", "--frame", "fisheye", "x"], "unknown frame"),
    (["--format", "ferret", "--image-size", "640x480", "--option", "colour=red", "x"], "no option colour"),
    (["--format", "ferret", "--image-size", "640x480", "--render", "0.5,0.5,0.1,0.1"], "x1 <= x2"),
    (["--format", "ferret", "--image-size", "640x480", "--render", '[{"phrase": "a"}]'], "--render input"),
])
def test_user_errors_exit_2_with_an_actionable_message(capsys, args, message):
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err


def test_parse_does_not_import_torch():
    code = ("import sys; from giqa_harness.cli import main; "
            "main(['parse', '--format', 'kosmos2', '--image-size', '10x10', 'a']); "
            "main(['parse', '--format', 'qwen25_vl', '--image-size', '10x10', '--render', '0,0,1,1']); "
            "sys.exit(3 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode == 0
