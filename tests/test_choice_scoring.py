"""Choice scoring of the adapters that hold a model here (model_adapters/choice_scoring.py): candidates
are tokenized as they follow the prefix, right padding changes nothing, a request's scores do not depend
on the other requests of its batch, and the numbers are the model's own log-probabilities."""

from __future__ import annotations

import pytest

from family_fakes import build_llama_folder, forget_fake_packages, make_requests, use_fake_packages
from giqa_harness.evaluator import build_adapter
from giqa_harness.models import ChoiceRequest
from giqa_harness.model_adapters.choice_scoring import continuation_ids

PREFIX = " The quality of the image is"
LEVELS = (" excellent", " good", " fair", " poor", " bad")


def _tokenizer():
    from giqa_harness.testing.tiny_models import _tokenizer as build

    return build(["<s>", "<pad>", "</s>", "<unk>"], [])


def test_a_candidate_is_tokenized_as_it_follows_the_prefix():
    tok = _tokenizer()
    whole = tok("A:" + PREFIX + " excellent", add_special_tokens=False)["input_ids"]
    prefix = continuation_ids(tok, "", PREFIX)
    word = continuation_ids(tok, PREFIX, " excellent")
    assert whole[-len(prefix) - len(word):] == prefix + word and word
    assert continuation_ids(tok, PREFIX, "") == []


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Tiny checkpoints, each built the first time a test asks for it."""
    from giqa_harness.testing.tiny_legacy import build_tiny_clip_tower, build_tiny_original
    from giqa_harness.testing.tiny_models import build_tiny_kosmos2, build_tiny_llava

    root = tmp_path_factory.mktemp("choice")
    builders = {
        "tower": lambda: build_tiny_clip_tower(root / "clip"),
        "llava": lambda: build_tiny_llava(root / "llava"),
        "llava_next": lambda: build_tiny_llava(root / "next", variant="llava_next"),
        "kosmos2": lambda: build_tiny_kosmos2(root / "kosmos2"),
        "shikra": lambda: build_tiny_original(root / "shikra", "shikra", built("tower")),
        "groundinggpt": lambda: build_tiny_original(root / "ggpt", "groundinggpt", built("tower")),
        "owl2": lambda: build_llama_folder(root / "owl2"),
        "ferret": lambda: build_llama_folder(root / "ferret", ("<region_fea>", "<image>")),
    }
    cache: dict = {}

    def built(name):
        if name not in cache:
            cache[name] = builders[name]()
        return cache[name]

    return built


@pytest.fixture
def adapter_of(checkpoints, monkeypatch):
    def build(family):
        if family in ("owl2", "ferret"):
            use_fake_packages(monkeypatch)
        name = "llava" if family == "llava_next" else family
        extra = {"vision_tower": str(checkpoints("tower"))} if family == "groundinggpt" else {}
        return build_adapter(name, {"pretrained": str(checkpoints(family)), **extra})

    yield build
    forget_fake_packages()


@pytest.mark.slow
@pytest.mark.parametrize("family", ["llava", "llava_next", "kosmos2", "shikra", "groundinggpt", "owl2", "ferret"])
def test_scores_are_the_same_padded_alone_or_in_any_batch(adapter_of, family):
    adapter = adapter_of(family)
    assert adapter.supports_choice_scoring()
    requests = make_requests(adapter.box_format, n=2)
    choices = [ChoiceRequest(r, PREFIX, LEVELS + (" good and sharp",)) for r in requests]
    batched = adapter.score_choices(choices)
    assert [adapter.score_choices([c])[0] for c in choices] == batched  # batching never changes a number
    for choice, scores in zip(choices[:1], batched):
        alone = [adapter.score_choices([ChoiceRequest(choice.request, PREFIX, (c,))])[0][0] for c in choice.candidates]
        # right padding of shorter candidates changes nothing (up to float32 sums of values near -60)
        assert alone == pytest.approx(scores, rel=1e-6, abs=1e-5)
        assert all(s < 0 for s in scores)
        assert scores[-1] < scores[1]  # " good and sharp" is " good" followed by more tokens
    assert batched[0] != batched[1]  # the image and question matter


@pytest.mark.slow
def test_llava_scores_are_the_models_own_log_probabilities(adapter_of):
    import torch

    adapter = adapter_of("llava")
    request = make_requests(adapter.box_format, n=1)[0]
    (score,) = adapter.score_choices([ChoiceRequest(request, PREFIX, (" fair",))])[0]
    inputs = adapter.encode([request])
    tok = adapter.processor.tokenizer
    extra = continuation_ids(tok, "", PREFIX) + continuation_ids(tok, PREFIX, " fair")
    n = len(continuation_ids(tok, PREFIX, " fair"))
    ids = torch.cat([inputs["input_ids"], torch.tensor([extra])], dim=1)
    with torch.no_grad():
        logits = adapter.model(input_ids=ids, pixel_values=inputs["pixel_values"]).logits[0].log_softmax(-1)
    expected = sum(logits[ids.shape[1] - n - 1 + i, ids[0, ids.shape[1] - n + i]].item() for i in range(n))
    assert score == pytest.approx(expected, abs=1e-5)


@pytest.mark.slow
def test_the_giqa_adapter_scores_through_its_base(checkpoints, tmp_path):
    import shutil

    from giqa_harness.model_adapters.giqa import GiqaCheckpointInfo

    folder = tmp_path / "giqa"
    shutil.copytree(checkpoints("llava"), folder)
    GiqaCheckpointInfo(base="llava").write(folder)
    giqa = build_adapter("giqa", {"pretrained": str(folder)})
    # a giqa_adapter.json without a prompt (as here) means the checkpoint's chat template
    llava = build_adapter("llava", {"pretrained": str(folder), "box_format": "giqa_grid", "frame": "original",
                                    "prompt": "chat_template"})
    request = make_requests(giqa.box_format, n=1)[0]
    assert giqa.supports_choice_scoring()
    assert giqa.score_choices([ChoiceRequest(request, PREFIX, LEVELS)]) == \
        llava.score_choices([ChoiceRequest(request, PREFIX, LEVELS)])
