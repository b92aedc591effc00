"""training.data: conversation JSON -> inputs that match the adapter, with answer-only labels."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.boxes.formats import get_format
from giqa_harness.errors import DatasetError
from giqa_harness.training.data import (
    IGNORE_INDEX, Conversation, PromptRenderer, Turn, collate, read_conversations, rewrite_boxes, select_kinds,
)

DES_Q = "<image>\nDescribe and evaluate the quality of the image."
DES_A = "The [sky](<0, 59>) is over-exposed while the [dog](<250, 293>) is sharp."


def record(id_, image="img/a.png", kind="des", turns=((DES_Q, DES_A),)):
    conversations = []
    for q, a in turns:
        conversations += [{"from": "human", "value": q}, {"from": "gpt", "value": a}]
    out = {"id": id_, "image": image, "conversations": conversations}
    if kind is not None:
        out["kind"] = kind
    return out


def write_set(folder, records):
    from giqa_harness.testing.bench import write_image

    for rec in records:
        if ".." not in rec["image"] and "missing" not in rec["image"] and not (folder / rec["image"]).exists():
            write_image(folder / rec["image"], size=(64, 40))
    path = folder / "train.json"
    path.write_text(json.dumps(records))
    return path


# -- reading -------------------------------------------------------------------------------------


def test_records_are_read_with_image_paths_under_the_json_folder(tmp_path):
    path = write_set(tmp_path, [record("a"), record("b", kind="vqa_yn", turns=(("<image>\nIs it sharp?", "No."),))])
    first, second = read_conversations([path])
    assert first.image == (tmp_path / "img/a.png").resolve()
    assert first.turns == (Turn("Describe and evaluate the quality of the image.", DES_A),)
    assert (first.kind, second.kind) == ("des", "vqa")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (record("a", image="../outside.png"), "escapes"),
        ({"id": "a", "image": "img/a.png"}, "missing field 'conversations'"),
        ({**record("a"), "conversations": [{"from": "gpt", "value": "x"}, {"from": "human", "value": "y"}]},
         "conversations[0] must be {'from': 'human'"),
        ({**record("a"), "conversations": [{"from": "human", "value": "x"}]}, "human/gpt pairs"),
        (record("a", kind="caption"), "field 'kind' is 'caption'"),
        (record("a", image="img/missing.png"), "set data.image_root"),
    ],
)
def test_malformed_records_name_the_file_and_record(tmp_path, bad, message):
    path = write_set(tmp_path, [record("ok"), bad])
    with pytest.raises(DatasetError, match="record 2") as info:
        read_conversations([path])
    assert message in str(info.value) and str(path) in str(info.value)


def test_duplicate_ids_and_missing_files_are_errors(tmp_path):
    path = write_set(tmp_path, [record("a"), record("a")])
    with pytest.raises(DatasetError, match="duplicate id 'a'"):
        read_conversations([path])
    with pytest.raises(DatasetError, match="data.train"):
        read_conversations([tmp_path / "nope.json"])


def test_kind_filters_keep_des_or_vqa_and_need_the_kind_field():
    convs = [Conversation("d", None, (), "des"), Conversation("v", None, (), "vqa")]  # type: ignore[arg-type]
    assert [c.id for c in select_kinds(convs, "des")] == ["d"]
    assert [c.id for c in select_kinds(convs, "vqa")] == ["v"]
    assert select_kinds(convs, "both") == convs
    with pytest.raises(DatasetError, match="'kind' field"):
        select_kinds(convs + [Conversation("x", None, (), None)], "des")  # type: ignore[arg-type]


# -- box text ablation ----------------------------------------------------------------------------

cells = st.integers(0, 399)


@settings(max_examples=60, deadline=None)
@given(a=cells, b=cells, c=cells, d=cells, w=st.integers(20, 900), h=st.integers(20, 900))
def test_continuous_rewrite_keeps_every_box_within_rounding(a, b, c, d, w, h):
    grid = get_format("giqa_grid")
    text = f"The [sky](<{a}, {b}>) is bright; the [dog](<{c}, {d}>) is sharp."
    conv = Conversation("x", None, (Turn(f"Is the [sky](<{a}, {b}>) bright?", text),))  # type: ignore[arg-type]
    target = get_format("giqa_continuous")  # [phrase]([x1, y1, x2, y2]), 2 decimals, original image
    rewritten = rewrite_boxes(conv, target, (w, h)).turns[0]
    assert "<" not in rewritten.answer and "<" not in rewritten.question
    expected = grid.parse(text, (w, h)).boxes
    got = target.parse(rewritten.answer, (w, h)).boxes
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        assert max(abs(x - y) for x, y in zip(e.as_tuple(), g.as_tuple())) <= 0.005 + 1e-9


def test_grid_text_is_kept_verbatim():
    conv = Conversation("x", None, (Turn("q", DES_A),))  # type: ignore[arg-type]
    assert rewrite_boxes(conv, None, (64, 40)) is conv


# -- prompts -------------------------------------------------------------------------------------


def test_family_template_renders_every_turn_and_ends_each_answer_with_eos():
    renderer = PromptRenderer("</s>", "<image>", template="USER: <image>\n{question} ASSISTANT:")
    pieces = renderer.pieces((Turn("Describe.", "Blurry [sky](<0, 1>)."), Turn("Is it sharp?", "No.")))
    assert pieces == [("USER: <image>\nDescribe. ASSISTANT:", " Blurry [sky](<0, 1>).</s>"),
                      ("USER: Is it sharp? ASSISTANT:", " No.</s>")]


# -- encoding on a tiny LLaVA ----------------------------------------------------------------------


@pytest.fixture(scope="module", params=["llava", "llava_next"])
def tiny(request, tmp_path_factory):
    from giqa_harness.testing.tiny_models import build_tiny_llava

    folder = tmp_path_factory.mktemp(request.param)
    return request.param, build_tiny_llava(folder / "model", request.param), folder


def load(tiny_model, train_json, *overrides):
    from giqa_harness.training.families import load_base
    from giqa_harness.training.recipe import load_recipe

    _, model, folder = tiny_model
    recipe = load_recipe("tiny-cpu", [f"model.base={model}", f"data.train={train_json}",
                                      f"output.dir={folder / 'out'}", *overrides])
    return load_base(recipe, "float32")


@pytest.mark.slow
def test_labels_cover_exactly_the_answer_tokens_of_every_turn(tiny, tmp_path):
    turns = ((DES_Q, DES_A), ("Is the [sky](<0, 59>) sharp?", "No."), ("How is the clarity?", "Low."))
    path = write_set(tmp_path, [record("a", turns=turns)])
    base = load(tiny, path)
    conversation = read_conversations([path])[0]
    example = base.encoder.encode(conversation)
    ids, labels = example["input_ids"].tolist(), example["labels"].tolist()
    tokenizer = base.preprocessors[0].tokenizer
    image_id = tokenizer.convert_tokens_to_ids("<image>")
    # Token by token: a label is either the token itself or ignored, and image tokens are ignored.
    for token, label in zip(ids, labels):
        assert label in (token, IGNORE_INDEX)
        if token == image_id:
            assert label == IGNORE_INDEX
    assert ids.count(image_id) >= 16  # the processor expanded the placeholder
    # The runs of target tokens decode to the answers, each ending with the end-of-sequence token.
    runs, current = [], []
    for token, label in zip(ids, labels):
        if label == IGNORE_INDEX:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(token)
    if current:
        runs.append(current)
    decoded = [tokenizer.decode(run).strip() for run in runs]
    assert decoded == [f"{answer}{tokenizer.eos_token}" for _, answer in turns]
    # Everything that is not an answer (prompts, questions with their boxes) is masked.
    text = tokenizer.decode([t for t, label in zip(ids, labels) if label == IGNORE_INDEX and t != image_id])
    assert "Describe and evaluate" in text and "How is the clarity?" in text and "Low" not in text


@pytest.mark.slow
def test_the_first_turn_is_exactly_what_the_adapter_sends(tiny, tmp_path):
    """Same prompt tokens and the same pixels (frame, padding, squash) as the llava adapter at inference."""
    from PIL import Image

    from giqa_harness.evaluator import build_adapter
    from giqa_harness.models import Request

    variant, model, _ = tiny
    path = write_set(tmp_path, [record("a")])
    base = load(tiny, path)
    example = base.encoder.encode(read_conversations([path])[0])
    adapter = build_adapter("llava", {"pretrained": str(model), "frame": "original",
                                      "image_frame": base.image_frame})
    with Image.open(tmp_path / "img/a.png") as im:
        image = im.convert("RGB")
    question = "Describe and evaluate the quality of the image."
    inputs = adapter.encode([Request(doc_id="a", task="t", question=question, image=image, image_size=image.size)])
    prompt_ids = inputs["input_ids"][0].tolist()
    first_target = next(i for i, label in enumerate(example["labels"].tolist()) if label != IGNORE_INDEX)
    assert example["input_ids"][:first_target].tolist() == prompt_ids
    assert (example["pixel_values"] == inputs["pixel_values"][0]).all()
    expected_frame = "pad_square:mean" if variant == "llava" else "original"
    assert base.image_frame == expected_frame


@pytest.mark.slow
def test_long_samples_are_truncated_but_never_inside_the_image(tiny, tmp_path):
    path = write_set(tmp_path, [record("a")])
    encoder = load(tiny, path).encoder
    whole = encoder.encode(read_conversations([path])[0])["input_ids"]
    past_image = int((whole == encoder.image_token_id).nonzero().max()) + 1
    limit = past_image + 4  # after the image, before the end of the answer
    assert limit < len(whole)
    example = load(tiny, path, f"data.max_length={limit}").encoder.encode(read_conversations([path])[0])
    assert example["input_ids"].tolist() == whole[:limit].tolist()
    with pytest.raises(DatasetError, match="data.max_length"):
        load(tiny, path, f"data.max_length={past_image - 2}").encoder.encode(read_conversations([path])[0])


@pytest.mark.slow
def test_collate_right_pads_and_stacks_images(tiny, tmp_path):
    records = [record("a"), record("b", image="img/b.png", turns=(("<image>\nIs it sharp?", "No."),))]
    path = write_set(tmp_path, records)
    base = load(tiny, path)
    examples = [base.encoder.encode(c) for c in read_conversations([path])]
    batch = collate(examples, base.pad_token_id)
    short = int(examples[1]["input_ids"].shape[0])
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape
    assert batch["attention_mask"][1].tolist() == [1] * short + [0] * (batch["input_ids"].shape[1] - short)
    assert (batch["labels"][1, short:] == IGNORE_INDEX).all()
    assert (batch["input_ids"][1, short:] == base.pad_token_id).all()
    assert batch["pixel_values"].shape[0] == 2
    loss = base.model(**batch).loss  # the batch is what the model's forward takes
    assert loss.isfinite()
