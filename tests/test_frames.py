"""Frames: exact conversions between a model's view of the image and the original, on non-square images."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from giqa_harness.boxes import Box
from giqa_harness.boxes.frames import (
    CenterCropFrame,
    OriginalFrame,
    PadSquareFrame,
    ResizedFrame,
    SmartResizeFrame,
    parse_frame,
    smart_resize,
)
from giqa_harness.errors import ConfigError

sizes = st.tuples(st.integers(1, 5000), st.integers(1, 5000))
unit = st.floats(0.0, 1.0)


@st.composite
def boxes(draw):
    x1, x2 = sorted((draw(unit), draw(unit)))
    y1, y2 = sorted((draw(unit), draw(unit)))
    return Box(x1, y1, x2, y2)


def close(a, b, tol=1e-9):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


class TestPadSquare:
    def test_wide_image_is_padded_above_and_below(self):
        # 200 x 100: S = 200, dx = 0, dy = 50. The image occupies v in [0.25, 0.75] of the square.
        frame = PadSquareFrame("white")
        assert frame.frame_size((200, 100)) == (200, 200)
        assert close(frame.to_original((0.0, 0.25, 1.0, 0.75), (200, 100)), (0.0, 0.0, 1.0, 1.0))
        assert close(frame.to_original((0.5, 0.5, 0.5, 0.5), (200, 100)), (0.5, 0.5, 0.5, 0.5))
        # v = 0.375 -> y = (0.375 * 200 - 50) / 100 = 0.25
        assert close(frame.to_original((0.1, 0.375, 0.2, 0.625), (200, 100)), (0.1, 0.25, 0.2, 0.75))

    def test_tall_image_with_odd_padding_uses_integer_offsets(self):
        # 50 x 101: S = 101, dx = (101 - 50) // 2 = 25, dy = 0.
        frame = PadSquareFrame("mean")
        w, h = 50, 101
        # u = (x * 50 + 25) / 101: the left edge of the image sits at 25/101, the right at 75/101.
        assert close(frame.from_original(Box(0.0, 0.0, 1.0, 1.0), (w, h)), (25 / 101, 0.0, 75 / 101, 1.0))
        assert close(frame.to_original((25 / 101, 0.0, 75 / 101, 1.0), (w, h)), (0.0, 0.0, 1.0, 1.0))

    def test_points_in_the_padding_clip_to_the_image_edge(self):
        frame = PadSquareFrame()
        assert frame.to_box((0.0, 0.0, 1.0, 0.1), (200, 100)) == Box(0.0, 0.0, 1.0, 0.0)

    @given(boxes(), sizes)
    def test_round_trip_is_exact(self, box, size):
        frame = PadSquareFrame()
        assert close(frame.to_original(frame.from_original(box, size), size), box.as_tuple(), 1e-9)

    def test_prepare_image_pastes_centred_on_the_fill_colour(self):
        from PIL import Image

        image = Image.new("RGB", (4, 2), (0, 0, 0))
        padded = PadSquareFrame("white").prepare_image(image)
        assert padded.size == (4, 4)
        assert padded.getpixel((0, 0)) == (255, 255, 255)  # dy = 1: the first row is padding
        assert padded.getpixel((0, 1)) == (0, 0, 0)
        assert PadSquareFrame("mean").prepare_image(image).getpixel((0, 0)) == (122, 116, 104)


class TestCenterCrop:
    def test_wide_image_loses_its_sides(self):
        # 200 x 100: m = 100, cx = 50. The crop covers x in [0.25, 0.75] of the original.
        frame = CenterCropFrame()
        assert frame.frame_size((200, 100)) == (100, 100)
        assert close(frame.to_original((0.0, 0.0, 1.0, 1.0), (200, 100)), (0.25, 0.0, 0.75, 1.0))
        # u = 0.5 -> x = (0.5 * 100 + 50) / 200 = 0.5; u = 0.2 -> x = 70 / 200 = 0.35
        assert close(frame.to_original((0.2, 0.1, 0.5, 0.9), (200, 100)), (0.35, 0.1, 0.5, 0.9))

    def test_tall_image_loses_top_and_bottom(self):
        # 60 x 100: m = 60, cy = 20: v = 0 -> y = 0.2, v = 1 -> y = 0.8
        frame = CenterCropFrame()
        assert close(frame.to_original((0.0, 0.0, 1.0, 1.0), (60, 100)), (0.0, 0.2, 1.0, 0.8))
        assert close(frame.from_original(Box(0.0, 0.2, 1.0, 0.8), (60, 100)), (0.0, 0.0, 1.0, 1.0))

    def test_a_box_outside_the_crop_falls_outside_the_frame(self):
        coords = CenterCropFrame().from_original(Box(0.0, 0.0, 0.2, 1.0), (200, 100))
        assert coords[2] < 0  # invisible to the model: renders clip it to the crop's edge

    def test_model_numbers_beyond_the_frame_clip_to_the_crops_edge(self):
        # 200 x 100: the crop covers x in [0.25, 0.75]. u = 1.2 lies past the crop's right edge, which
        # the model never saw: the box ends at the crop's edge (0.75), not at (1.2 * 100 + 50) / 200 = 0.85.
        assert CenterCropFrame().to_box((-0.1, 0.0, 1.2, 1.0), (200, 100)) == Box(0.25, 0.0, 0.75, 1.0)

    @given(boxes(), sizes)
    def test_round_trip_is_exact(self, box, size):
        frame = CenterCropFrame()
        assert close(frame.to_original(frame.from_original(box, size), size), box.as_tuple(), 1e-9)


class TestSmartResize:
    def test_qwen_defaults_and_known_sizes(self):
        frame = SmartResizeFrame()
        assert (frame.factor, frame.min_pixels, frame.max_pixels) == (28, 3136, 12845056)
        assert frame.frame_size((640, 480)) == (644, 476)  # 640/28 = 22.9 -> 23, 480/28 = 17.1 -> 17
        assert frame.frame_size((10, 10)) == (56, 56)  # raised to min_pixels = 56 x 56

    def test_large_images_shrink_below_max_pixels(self):
        w, h = smart_resize((8000, 6000), max_pixels=1003520)
        assert w % 28 == 0 and h % 28 == 0 and w * h <= 1003520
        assert abs(w / h - 8000 / 6000) < 0.05

    @settings(max_examples=300, deadline=None)  # the first example imports transformers
    @given(st.integers(28, 6000), st.integers(28, 6000))
    def test_agrees_with_transformers_qwen2_vl_image_processor(self, w, h):
        # The PIL processor holds the same function as the torchvision one, without needing torchvision.
        pytest.importorskip("transformers")
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as hf_smart_resize

        if max(w, h) / min(w, h) > 200:
            return
        h_bar, w_bar = hf_smart_resize(h, w, factor=28, min_pixels=3136, max_pixels=12845056)
        assert smart_resize((w, h)) == (w_bar, h_bar)

    def test_coordinates_are_the_originals(self):
        box = Box(0.1, 0.2, 0.3, 0.4)
        assert SmartResizeFrame().to_box(SmartResizeFrame().from_original(box, (640, 480)), (640, 480)) == box

    def test_degenerate_sizes_never_raise(self):
        assert smart_resize((0, 0)) == (56, 56)
        w, h = smart_resize((1, 10000))
        assert w >= 28 and h >= 28


@pytest.mark.parametrize("frame", [
    OriginalFrame(), PadSquareFrame(), PadSquareFrame("white"), PadSquareFrame((1, 2, 3)), CenterCropFrame(),
    ResizedFrame(644, 476), SmartResizeFrame(), SmartResizeFrame(14, 100, 10000),
])
def test_describe_parses_back_to_an_equal_frame(frame):
    assert parse_frame(frame.describe()) == frame


@pytest.mark.parametrize("spec", ["pad_square:blue", "resized:12", "smart_resize:28,9", "smart_resize:0,1,2", "fisheye"])
def test_bad_frame_specs_say_what_to_write(spec):
    with pytest.raises(ConfigError, match="frame"):
        parse_frame(spec)
