"""The owl2 adapter: mPLUG-Owl2's prompt, squashed square input, original-frame boxes, modality indicators,
and batched generation through a fake of the ``mplug_owl2`` package (the real one cannot be installed here)."""

from __future__ import annotations

import pytest
import torch

from family_fakes import build_llama_folder, make_requests
from giqa_harness.boxes.formats import get_format, rerender
from giqa_harness.errors import ConfigError, MissingDependencyError
from giqa_harness.evaluator import build_adapter
from giqa_harness.model_adapters.owl2 import Owl2Adapter, owl2_prompt


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return build_llama_folder(tmp_path_factory.mktemp("owl2"))


def test_prompt_has_no_system_sentence_and_the_image_token_right_before_the_question():
    # mplug_owl2/evaluate/evaluate_*.py end the prompt with a space after ASSISTANT:
    assert owl2_prompt("Is the dog sharp?") == "USER: <|image|>Is the dog sharp? ASSISTANT: "


def test_referring_boxes_are_plain_floats_of_the_original_image():
    text, _ = rerender("Is the [dog](<0, 399>) noisy?", get_format("giqa_grid"), get_format("owl2"), (300, 200))
    assert text == "Is the dog [0.03, 0.03, 0.97, 0.97] noisy?"  # 2 decimals of 0.025 / 0.975 (binary rounding)


def test_a_realistic_answer_parses_into_original_image_boxes():
    answer = "The sky [0.00, 0.00, 1.00, 0.35] is over-exposed, while the dog [0.41, 0.52, 0.78, 0.96] is sharp."
    parsed = get_format("owl2").parse(answer, (448, 300))
    assert [g.phrase for g in parsed.groundings] == ["The sky", "the dog"]
    assert parsed.groundings[1].boxes[0].as_tuple() == pytest.approx((0.41, 0.52, 0.78, 0.96), abs=1e-9)


def test_without_the_package_the_error_says_how_to_install_it():
    ok, why = Owl2Adapter.can_load()
    assert not ok and "mplug_owl2" in why
    with pytest.raises(MissingDependencyError, match=r"git clone https://github.com/X-PLUG/mPLUG-Owl && "
                                                     r"pip install -e ./mPLUG-Owl/mPLUG-Owl2"):
        build_adapter("owl2", {"pretrained": "/nowhere"})


@pytest.mark.slow
def test_loading_passes_the_dtype_as_the_packages_transformers_understands_it(checkpoint, fake_packages):
    from mplug_owl2.model import LOADS

    build_adapter("owl2", {"pretrained": str(checkpoint), "dtype": "float32"})
    assert LOADS[-1]["torch_dtype"] == torch.float32 and "dtype" not in LOADS[-1]
    assert LOADS[-1]["trust_remote_code"] is False


@pytest.mark.slow
def test_batched_answers_equal_one_by_one(checkpoint, fake_packages):
    adapter = build_adapter("owl2", {"pretrained": str(checkpoint)})
    assert adapter.box_format.name == "owl2" and adapter.box_format.frame.describe() == "original"
    requests = make_requests(adapter.box_format)
    batched = adapter.generate(requests)
    one_by_one = [adapter.generate([r])[0] for r in requests]
    assert batched == one_by_one and len(set(batched)) > 1


@pytest.mark.slow
def test_images_are_squashed_to_a_square_and_padding_is_marked_as_text(checkpoint, fake_packages):
    from mplug_owl2.mm_utils import CALLS

    adapter = build_adapter("owl2", {"pretrained": str(checkpoint)})
    short, long = make_requests(adapter.box_format, n=3)[0], make_requests(adapter.box_format, n=3)[2]
    long = type(long)(**{**long.__dict__, "question": long.question + " Think about noise, blur and colour."})
    adapter.generate([short, long])
    assert CALLS[-2:] == [(30, 30), (24, 24)]  # (30, 20) and (24, 24) arrive square: squashed, not cropped
    first_step = adapter.model.decoder.modalities[0]
    calls = adapter.model.calls[-2:]
    lengths = [len(c["input_ids"]) - 1 + 4 for c in calls]  # the placeholder becomes 4 image features
    pad = max(lengths) - lengths[0]
    assert first_step.shape == (2, max(lengths))
    assert first_step[0, :pad].eq(0).all()  # padding: text (0), never image
    assert first_step.sum(dim=1).tolist() == [4, 4]
    assert all(m.eq(0).all() and m.shape == (2, 1) for m in adapter.model.decoder.modalities[1:])


@pytest.mark.slow
def test_prompt_template_override_needs_the_image_token(checkpoint, fake_packages):
    adapter = build_adapter("owl2", {"pretrained": str(checkpoint), "prompt_template": "<|image|>Q: {question} A:"})
    assert adapter.template == "<|image|>Q: {question} A:"
    with pytest.raises(ConfigError, match="<|image|>"):
        build_adapter("owl2", {"pretrained": str(checkpoint), "prompt_template": "Q: {question} A:"})


@pytest.mark.slow
def test_choices_are_scored_after_the_prompt_without_its_trailing_space(checkpoint, fake_packages):
    from giqa_harness.model_adapters.owl2 import CONVERSATION, TEMPLATE
    from giqa_harness.models import ChoiceRequest

    default = build_adapter("owl2", {"pretrained": str(checkpoint)})
    conversation = build_adapter("owl2", {"pretrained": str(checkpoint), "prompt_template": CONVERSATION})
    request = make_requests(default.box_format, n=1)[0]
    choices = [ChoiceRequest(request, " The quality of the image is", (" good", " poor"))]
    # "ASSISTANT: The quality ...", never "ASSISTANT:  The quality ..."
    assert default.score_choices(choices) == conversation.score_choices(choices)
    assert default.template == TEMPLATE  # generation keeps the eval scripts' prompt
