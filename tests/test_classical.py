"""The classical baseline: per-block measures respond to the distortion they measure, regions are the
best rectangles of anomalous tiles, and the adapter answers in the grid syntax from the box it is
asked about, deterministically."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import ndimage

from giqa_harness.boxes.formats.grid import GridFormat, decode_cells
from giqa_harness.boxes.geometry import iou
from giqa_harness.boxes.grounded import Grounding
from giqa_harness.classical.findings import best_rectangle
from giqa_harness.classical.language import asked_kind
from giqa_harness.classical.measures import measure
from giqa_harness.errors import ConfigError
from giqa_harness.models import Request
from giqa_harness.synth.degrade import jpeg_blocking

GRID = GridFormat()
REGION = decode_cells(5 * 20 + 3, 13 * 20 + 9)  # columns 3..9, rows 5..13: cell centre to cell centre
SIZE = (400, 400)


def texture(seed: int = 0) -> np.ndarray:
    """A detailed, mid-grey, slightly coloured photo stand-in (no file needed)."""
    rng = np.random.default_rng(seed)
    fine = ndimage.gaussian_filter(rng.standard_normal((400, 400)), 1.2)
    coarse = ndimage.gaussian_filter(rng.standard_normal((400, 400)), 12)
    luma = 120 + 60 * fine / fine.std() + 30 * coarse / coarse.std()
    rgb = np.stack([luma + 8, luma, luma - 8], axis=-1)
    return np.clip(rgb, 0, 255)


def with_region(image: np.ndarray, change) -> np.ndarray:
    x0, y0, x1, y1 = (round(v * 400) for v in REGION.as_tuple())
    out = image.copy()
    out[y0:y1, x0:x1] = change(image)[y0:y1, x0:x1]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def noisy(image: np.ndarray) -> np.ndarray:
    return image + np.random.default_rng(1).standard_normal(image.shape[:2] + (1,)) * 20


def blurred(image: np.ndarray) -> np.ndarray:
    return ndimage.gaussian_filter(image, (3, 3, 0))


def inside_vs_outside(values: np.ndarray, maps) -> tuple[float, float]:
    mask = ~maps.outside(REGION)
    return float(np.median(values[mask])), float(np.median(values[~mask]))


@pytest.mark.parametrize("name, change, measure_name, direction", [
    ("noise", noisy, "noise", 1), ("blur", blurred, "sharpness", -1),
    ("jpeg", lambda im: jpeg_blocking(im, 8), "blockiness", 1),
    ("under-exposure", lambda im: im * 0.3, "luma", -1), ("colour cast", lambda im: im + [40, 0, -40], "chroma", 1),
])
def test_each_measure_moves_inside_the_degraded_region_only(name, change, measure_name, direction):
    maps = measure(with_region(texture(), change))
    values = getattr(maps, measure_name)
    if measure_name == "chroma":
        values = values[..., 0] - values[..., 1]
    inside, outside = inside_vs_outside(values, maps)
    assert direction * (inside - outside) > 0.5 * max(abs(outside), 0.1), (name, inside, outside)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 30), st.integers(0, 30), st.integers(2, 10), st.integers(2, 10))
def test_best_rectangle_finds_a_planted_rectangle(r0, c0, h, w):
    score = np.full((40, 40), -1.0)
    score[r0 : r0 + h, c0 : c0 + w] = 3.0
    total, rect = best_rectangle(score)
    assert rect == (r0, c0, r0 + h, c0 + w) and total == pytest.approx(3.0 * h * w)


@pytest.mark.parametrize("question, kind", [
    ("Is [the marked area](<1, 44>) blurry?", "blur"), ("Does the region look out of focus?", "blur"),
    ("Is there noticeable noise in it?", "noise"), ("Are there JPEG blocks in it?", "blocking"),
    ("Are the highlights blown out?", "overexposure"), ("Are the shadows in the area crushed?", "underexposure"),
    ("Is the area too dark?", "underexposure"), ("Is it discoloured by a tint?", "colour_cast"),
    ("Does it look hazy and flat?", "low_contrast"), ("How good is the exposure of this image?", "exposure"),
    ("What is wrong with this region?", None),
])
def test_questions_name_the_distortion_they_ask_about(question, kind):
    assert asked_kind(question) == kind


@pytest.fixture
def adapter():
    from giqa_harness.plugins import registry

    return registry().models.get("classical")()


def request(pixels: np.ndarray, question: str, kind: str, doc_id: str = "d") -> Request:
    parsed = GRID.parse(question, SIZE)
    return Request(doc_id=doc_id, task="t", question=question, image=Image.fromarray(pixels), image_size=SIZE,
                   referring=parsed.groundings, raw_question=question, kind=kind)


def test_the_adapter_declares_the_grid_format_in_the_original_frame(adapter):
    assert adapter.name == "classical" and adapter.box_format.name == "giqa_grid"
    assert adapter.box_format.frame.describe() == GridFormat().frame.describe()
    with pytest.raises(ConfigError, match="blocks"):
        type(adapter)(blocks="many")


def test_description_points_at_the_noisy_region(adapter):
    pixels = with_region(texture(), noisy)
    [answer] = adapter.generate([request(pixels, "Describe and evaluate the quality of the image.", "des")])
    groundings = GRID.parse(answer, SIZE).groundings
    noisy_ones = [g for g in groundings if "noisy" in g.phrase]
    assert noisy_ones and iou(noisy_ones[0].boxes[0], REGION) > 0.6, answer


def test_a_clean_image_is_described_as_clean(adapter):
    [answer] = adapter.generate([request(texture(3).astype(np.uint8), "Describe the quality.", "des")])
    assert not GRID.parse(answer, SIZE).groundings and "clean" in answer


def test_yes_no_reads_the_box_in_the_question(adapter):
    pixels = with_region(texture(), noisy)
    inside = GRID.render(Grounding("the marked area", (REGION,)), SIZE)
    elsewhere = GRID.render(Grounding("the marked area", (decode_cells(5 * 20 + 12, 13 * 20 + 18),)), SIZE)
    answers = adapter.generate([request(pixels, f"Is {inside} noisy?", "vqa_yn"),
                                request(pixels, f"Is {elsewhere} noisy?", "vqa_yn"),
                                request(pixels, f"Is {inside} over-exposed?", "vqa_yn")])
    assert [a.split()[0].strip(",.") for a in answers] == ["Yes", "No", "No"]


def test_grounding_questions_get_boxes_and_referring_ones_get_the_distortion(adapter):
    pixels = with_region(texture(), blurred)
    inside = GRID.render(Grounding("the marked area", (REGION,)), SIZE)
    where, what = adapter.generate([request(pixels, "Why does this picture look degraded?", "vqa_w"),
                                    request(pixels, f"What is wrong with {inside}?", "vqa_w")])
    assert where.startswith("Because") and any(iou(b, REGION) > 0.5 for b in GRID.parse(where, SIZE).boxes)
    assert "blur" in what and not GRID.parse(what, SIZE).groundings


def test_answers_are_deterministic_and_independent_of_batching(adapter):
    pixels = with_region(texture(), noisy)
    inside = GRID.render(Grounding("the area", (REGION,)), SIZE)
    batch = [request(pixels, "Describe the quality.", "des", "a"), request(pixels, f"Is {inside} noisy?", "vqa_yn", "b"),
             request(pixels, "What distortions can you find?", "vqa_w", "c")]
    together = adapter.generate(batch)
    fresh = type(adapter)()
    assert [fresh.generate([r])[0] for r in batch] == together
