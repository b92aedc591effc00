"""Train -> eval consistency, per trainable family, through the command line.

A tiny random model of each family is fine-tuned (``giqa-harness train tiny-cpu``) on three DES docs
that share one question, then evaluated on those docs (``giqa-harness --model giqa``). Only the image
tells the three apart, so giving back the exact reference answers, boxes included, needs the same
template, the same answer labels, the same box text and the same vision path in training and in
evaluation: a mismatch anywhere (a space after ``ASSISTANT:``, a system sentence on one side only, an
image framed differently) and greedy decoding drifts from the memorized text.
"""

from __future__ import annotations

import json

import pytest

from family_fakes import build_llama_folder, forget_fake_packages, use_fake_packages
from giqa_harness.cli import main
from giqa_harness.testing.bench import write_image

pytestmark = pytest.mark.slow

QUESTION = "Describe and evaluate the quality of the image."
DOCS = [  # (id, colour, reference answer in the grid syntax)
    ("m1", (250, 250, 250), "Over-exposed [sky](<0, 59>), quality is fair."),
    ("m2", (5, 5, 5), "Blurry overall."),
    ("m3", (240, 20, 20), "Noisy [car](<120, 186>), quality is poor."),
]
# Optimizer steps at tiny-cpu's lr 1e-2, held constant: enough for the loss to fall near zero.
STEPS = {"llava": 70, "llava_next": 70, "owl2": 80}


def write_data(root):
    """The three docs as a benchmark (data.jsonl) and as training conversations over the same images."""
    records, conversations = [], []
    for doc_id, colour, answer in DOCS:
        write_image(root / f"images/{doc_id}.png", size=(48, 32), color=colour)
        records.append({"id": doc_id, "image": f"images/{doc_id}.png", "kind": "des", "question": QUESTION,
                        "answer": answer})
        conversations.append({"id": doc_id, "image": f"images/{doc_id}.png", "kind": "des", "conversations": [
            {"from": "human", "value": f"<image>\n{QUESTION}"}, {"from": "gpt", "value": answer}]})
    (root / "train.json").write_text(json.dumps(conversations))
    return records


def train_then_answer(base, family, steps, tmp_path, tiny_task, capsys, *overrides):
    data = tmp_path / "data_mem"
    records = write_data(data)
    task = tiny_task(records=records, name="mem")
    run = tmp_path / "run"
    assert main(["train", "tiny-cpu", f"model.family={family}", f"model.base={base}",
                 f"data.train={data / 'train.json'}", f"output.dir={run}", f"train.max_steps={steps}",
                 "train.lr_scheduler=constant_with_warmup", "output.save_every_steps=0",
                 "output.log_every_steps=1000", *overrides]) == 0
    out = tmp_path / "eval"
    assert main(["--model", "giqa", "--model_args", f"pretrained={run / 'final'},max_new_tokens=40", "--tasks", task,
                 "--output_path", str(out), "--log_samples", "--no_cache", "--bootstrap", "0"]) == 0
    capsys.readouterr()
    rows = [json.loads(line) for line in (out / f"samples_{task}.jsonl").read_text().splitlines()]
    return {r["doc_id"]: r["answer"] for r in rows}, rows


def expected():
    return {doc_id: answer for doc_id, _, answer in DOCS}


@pytest.mark.parametrize("variant", ["llava", "llava_next"])
def test_a_llava_entrant_gives_back_each_images_reference_answer(variant, tmp_path, tiny_task, capsys):
    from giqa_harness.testing.tiny_models import build_tiny_llava

    base = build_tiny_llava(tmp_path / "base", variant)
    # The CLIP tower frozen, as LLaVA's own recipe: trained at this rate it stops telling the images apart.
    answers, rows = train_then_answer(base, "llava", STEPS[variant], tmp_path, tiny_task, capsys,
                                      "model.freeze_vision_tower=true")
    assert answers == expected()
    # trained and evaluated with the authors' conversation, system sentence included
    assert rows[0]["full_prompt"].startswith("A chat between a curious user and an artificial intelligence assistant.")


def test_an_owl2_entrant_gives_back_each_images_reference_answer(tmp_path, tiny_task, capsys, monkeypatch):
    use_fake_packages(monkeypatch)
    try:
        base = build_llama_folder(tmp_path / "base")
        answers, rows = train_then_answer(base, "owl2", STEPS["owl2"], tmp_path, tiny_task, capsys)
    finally:
        forget_fake_packages()
    assert answers == expected()
    # the prompt training rendered (no space after ASSISTANT:), recorded in giqa_adapter.json
    assert rows[0]["full_prompt"] == f"<s>USER: <|image|>{QUESTION} ASSISTANT:"
