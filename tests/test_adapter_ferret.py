"""The ferret adapter: Ferret's prompt, boxes on 0-999 with <region_fea>, region masks, and batched
generation through a fake of the ``ferret`` package (the real one cannot be installed here)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from family_fakes import build_llama_folder, make_requests
from giqa_harness.boxes.formats import get_format, rerender
from giqa_harness.boxes.geometry import Box
from giqa_harness.errors import ConfigError, GiqaError, MissingDependencyError
from giqa_harness.evaluator import build_adapter
from giqa_harness.model_adapters.ferret import FerretAdapter, ferret_prompt, region_mask

SYSTEM = ("A chat between a human and an AI that understands visuals. In images, [x, y] denotes points: "
          "top-left [0, 0], bottom-right [width-1, height-1]. Increasing x moves right; y moves down. "
          "Bounding box: [x1, y1, x2, y2]. Image size: 1000x1000. Follow instructions. ")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return build_llama_folder(tmp_path_factory.mktemp("ferret"), ("<region_fea>", "<image>"))


def test_prompt_is_the_ferret_v1_conversation():
    assert ferret_prompt("Is the dog sharp?") == SYSTEM + " USER: <image>\nIs the dog sharp? ASSISTANT:"
    assert ferret_prompt("Q?", im_start_end=True) == SYSTEM + " USER: <im_start><image><im_end>\nQ? ASSISTANT:"


def test_referring_boxes_are_rendered_on_0_999_of_the_original_image_with_region_tokens():
    fmt = get_format("ferret")  # the adapter's declared format; frame: the original (squashed) image
    text, parsed = rerender("Is the [dog](<0, 399>) noisy?", get_format("giqa_grid"), fmt, (300, 200))
    assert text == "Is the dog [25, 25, 975, 975] <region_fea> noisy?"
    assert parsed.groundings[0].boxes == (Box(0.025, 0.025, 0.975, 0.975),)


def test_region_mask_marks_the_boxes_pixels_indexed_x_then_y():
    mask = region_mask(Box(0.1, 0.2, 0.5, 0.6), (300, 200))
    assert mask.shape == (300, 200)  # (W, H), as Ferret's masks
    assert mask[30:151, 40:121].eq(1).all() and mask.sum() == 121 * 81
    assert mask[29, 40] == 0 and mask[151, 40] == 0 and mask[30, 39] == 0 and mask[30, 121] == 0


def test_region_mask_of_a_box_touching_the_far_edges_stays_inside_the_image():
    mask = region_mask(Box(0.9, 0.0, 1.0, 1.0), (10, 4))
    assert mask.shape == (10, 4) and mask[9].eq(1).all() and mask.sum() == 4


@settings(max_examples=60, deadline=None)
@given(st.tuples(*[st.floats(0, 1)] * 4), st.integers(1, 50), st.integers(1, 50))
def test_region_mask_is_the_inclusive_pixel_rectangle_of_the_box(coords, width, height):
    box = Box.from_corners(*coords)
    mask = region_mask(box, (width, height))
    xs, ys = mask.nonzero(as_tuple=True)
    assert xs.min() == min(width - 1, int(box.x1 * width)) and xs.max() == min(width - 1, int(box.x2 * width))
    assert ys.min() == min(height - 1, int(box.y1 * height)) and ys.max() == min(height - 1, int(box.y2 * height))
    assert mask.sum() == (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1)


def test_a_realistic_answer_parses_into_original_image_boxes():
    answer = "There is a blurry dog [120, 300, 560, 880] on the left and a sharp car [600, 100, 990, 500]."
    parsed = get_format("ferret").parse(answer, (640, 480))
    assert [g.phrase for g in parsed.groundings] == ["a blurry dog", "a sharp car"]
    assert parsed.groundings[0].boxes[0].as_tuple() == pytest.approx((0.12, 0.3, 0.56, 0.88), abs=1e-9)


def test_without_the_package_the_error_says_how_to_install_it():
    ok, why = FerretAdapter.can_load()
    assert not ok and "git clone https://github.com/apple/ml-ferret" in why
    with pytest.raises(MissingDependencyError, match=r"pip install -e ./ml-ferret"):
        build_adapter("ferret", {"pretrained": "/nowhere"})


@pytest.mark.slow
def test_batched_answers_equal_one_by_one_and_the_model_gets_one_mask_per_region_token(checkpoint, fake_packages):
    import ferret.model.builder as builder

    adapter = build_adapter("ferret", {"pretrained": str(checkpoint)})
    assert builder.LOADS[-1]["model_name"] == "ferret" and builder.LOADS[-1]["device_map"] == {"": "cpu"}
    requests = make_requests(adapter.box_format)
    batched = adapter.generate(requests)
    one_by_one = [adapter.generate([r])[0] for r in requests]
    assert batched == one_by_one and len(set(batched)) > 1
    calls = adapter.model.calls[:len(requests)]
    for request, call in zip(requests, calls):
        assert call["images"] == (1, 3, 32, 32)  # squashed to the tower's square input
        boxes = [b for g in request.referring for b in g.boxes]
        assert [tuple(m.shape) for m in call["masks"]] == [request.image_size] * len(boxes)
        for box, mask in zip(boxes, call["masks"]):
            assert torch.equal(mask, region_mask(box, request.image_size))
    two_regions = calls[5]
    assert len(two_regions["masks"]) == 2


@pytest.mark.slow
def test_a_referring_answer_does_not_depend_on_the_random_state(checkpoint, fake_packages):
    adapter = build_adapter("ferret", {"pretrained": str(checkpoint)})
    request = make_requests(adapter.box_format)[5]
    torch.manual_seed(1)
    first = adapter.generate([request])
    torch.manual_seed(2)
    assert adapter.generate([request]) == first


@pytest.mark.slow
def test_region_features_off_drops_the_token_and_the_masks(checkpoint, fake_packages):
    adapter = build_adapter("ferret", {"pretrained": str(checkpoint), "region_features": False})
    request = make_requests(adapter.box_format)[3]
    assert request.question == "Is the dog [25, 25, 975, 975] noisy?"
    adapter.generate([request])
    assert adapter.model.calls[-1]["masks"] == []


@pytest.mark.slow
def test_a_region_token_without_its_box_is_refused(checkpoint, fake_packages):
    adapter = build_adapter("ferret", {"pretrained": str(checkpoint)})
    request = make_requests(adapter.box_format, n=1)[0]
    broken = type(request)(**{**request.__dict__, "question": "What is [1, 2, 3, 4] <region_fea>?"})
    with pytest.raises(GiqaError, match="1 <region_fea> tokens but 0 referring boxes"):
        adapter.generate([broken])


@pytest.mark.slow
def test_beam_search_and_unknown_arguments_are_config_errors(checkpoint, fake_packages):
    with pytest.raises(ConfigError, match="region_feature\\b|no argument region_feature"):
        build_adapter("ferret", {"pretrained": str(checkpoint), "region_feature": False})
    adapter = build_adapter("ferret", {"pretrained": str(checkpoint)})
    with pytest.raises(ConfigError, match="beam search"):
        adapter.generate(make_requests(adapter.box_format, n=1, generation_kwargs={"num_beams": 3}))
