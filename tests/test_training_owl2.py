"""mPLUG-Owl2 training through its own package: the missing-package error, and inputs built exactly as
the owl2 adapter builds them (checked against the fake ``mplug_owl2`` package of tests/fake_packages)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch

from family_fakes import build_llama_folder, forget_fake_packages, use_fake_packages
from giqa_harness.errors import MissingDependencyError
from giqa_harness.testing.bench import write_image
from giqa_harness.training.data import IGNORE_INDEX, read_conversations
from giqa_harness.training.recipe import load_recipe

TURNS = [("<image>\nDescribe the quality.", "The [sky](<0, 59>) is blurry."), ("Is the sky sharp?", "No.")]


def owl2_recipe(tmp_path, base):
    write_image(tmp_path / "img/a.png", size=(64, 40))
    conversation = [m for q, a in TURNS for m in ({"from": "human", "value": q}, {"from": "gpt", "value": a})]
    (tmp_path / "train.json").write_text(json.dumps([{"id": "a", "image": "img/a.png", "conversations": conversation}]))
    return load_recipe("mplug-owl2-7b", [f"model.base={base}", f"data.train={tmp_path / 'train.json'}",
                                         "model.freeze_vision_tower=false"])


def test_without_the_package_the_error_says_how_to_install_it(tmp_path):
    from giqa_harness.training.families import load_base

    forget_fake_packages()
    with pytest.raises(MissingDependencyError, match=r"training an mPLUG-Owl2 model.*git clone "
                                                     r"https://github.com/X-PLUG/mPLUG-Owl"):
        load_base(owl2_recipe(tmp_path, "MAGAer13/mplug-owl2-llama2-7b"), "float32")


@pytest.mark.slow
def test_inputs_match_the_adapter_and_only_answers_are_targets(tmp_path, monkeypatch):
    use_fake_packages(monkeypatch)
    try:
        from mplug_owl2 import mm_utils
        from mplug_owl2.constants import IMAGE_TOKEN_INDEX

        from giqa_harness.model_adapters.owl2 import CONVERSATION, owl2_prompt
        from giqa_harness.training.families import load_base

        base = load_base(owl2_recipe(tmp_path, build_llama_folder(tmp_path / "owl2")), "float32")
        tokenizer = base.preprocessors[0]
        example = base.encoder.encode(read_conversations([tmp_path / "train.json"])[0])
    finally:
        forget_fake_packages()
    ids, labels = example["input_ids"].tolist(), example["labels"].tolist()
    # The first turn is what the adapter sends with the template training records (the mplug_owl2
    # conversation): the package's tokenization of its prompt.
    prompt = mm_utils.tokenizer_image_token(owl2_prompt("Describe the quality.", CONVERSATION), tokenizer,
                                            IMAGE_TOKEN_INDEX)
    first_target = next(i for i, label in enumerate(labels) if label != IGNORE_INDEX)
    assert ids[:first_target] == list(prompt)
    assert ids.count(IMAGE_TOKEN_INDEX) == 1 and labels[ids.index(IMAGE_TOKEN_INDEX)] == IGNORE_INDEX
    runs, current = [], []
    for token, label in zip(ids, labels):
        assert label in (token, IGNORE_INDEX)
        if label == IGNORE_INDEX and current:
            runs.append(current)
            current = []
        elif label != IGNORE_INDEX:
            current.append(token)
    runs += [current] if current else []
    assert [tokenizer.decode(r).strip() for r in runs] == [f"{a}</s>" for _, a in TURNS]
    # The image went through the package's own processing, squashed to a square of its longer side.
    assert mm_utils.CALLS[-1] == (64, 64) and tuple(example["images"].shape) == (3, 32, 32)
    assert (base.family, base.image_frame, base.prompt_template) == ("owl2", "original", CONVERSATION)


def test_the_packages_mean_loss_becomes_a_sum_over_answer_tokens():
    from giqa_harness.training.owl2_family import owl2_answer_loss

    logits = torch.randn(2, 5, 7)
    labels = torch.tensor([[IGNORE_INDEX, IGNORE_INDEX, 3, 4, IGNORE_INDEX], [IGNORE_INDEX, 1, 2, 6, 5]])

    def forward(input_ids, attention_mask, labels, images, return_dict):  # the package's contract: a mean
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 7), labels[:, 1:].reshape(-1))
        return SimpleNamespace(loss=loss, logits=logits)

    batch = {"input_ids": labels.clamp(min=0), "attention_mask": torch.ones_like(labels), "labels": labels,
             "images": torch.zeros(2, 3, 4, 4)}
    expected = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 7), labels[:, 1:].reshape(-1),
                                                 reduction="sum")
    assert owl2_answer_loss(forward, batch) == pytest.approx(float(expected), rel=1e-6)
    nothing = {**batch, "labels": torch.full_like(labels, IGNORE_INDEX)}
    assert float(owl2_answer_loss(forward, nothing)) == 0.0  # no targets: zero, not NaN
