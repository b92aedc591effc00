"""The Grounding DINO detector (transformers-native) on a tiny random checkpoint, and detector lookup."""

from __future__ import annotations

import pytest
from PIL import Image

from giqa_harness.annotate.detect import build_detector, query_text
from giqa_harness.errors import ConfigError, UnknownNameError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_gd(tmp_path_factory):
    from giqa_harness.testing.tiny_grounding_dino import build_tiny_grounding_dino

    return build_tiny_grounding_dino(tmp_path_factory.mktemp("gd"))


def test_queries_are_lowercase_and_end_with_a_full_stop():
    assert query_text("  The Man wearing a  white T-shirt. ") == "the man wearing a white t-shirt."


def test_unknown_detectors_and_bad_options_are_named():
    with pytest.raises(UnknownNameError, match="grounding_dino"):
        build_detector("grounding-dino", {})
    with pytest.raises(ConfigError, match="box_threshold must be a number in"):
        build_detector("grounding_dino", {"box_threshold": 2})
    with pytest.raises(ConfigError, match="bad --detector_args"):
        build_detector("grounding_dino", {"treshold": 0.3})
    with pytest.raises(ConfigError, match="does not exist"):
        build_detector("grounding_dino", {"pretrained": "/no/such/folder"})


def test_boxes_per_phrase_are_normalized_best_first_and_capped(tiny_gd):
    detector = build_detector("grounding_dino", {"pretrained": str(tiny_gd), "box_threshold": 0.0,
                                                 "text_threshold": 0.0, "max_boxes": 4})
    image = Image.new("RGB", (90, 50), (30, 120, 200))
    found = detector.detect(image, ["the sky", "the man wearing a white shirt", "grass"])
    assert [len(per_phrase) for per_phrase in found] == [4, 4, 4]
    for per_phrase in found:
        scores = [d.score for d in per_phrase]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= v <= 1.0 for d in per_phrase for v in d.box.as_tuple())
    # Padding a batch of phrases of different lengths changes no phrase's boxes.
    one_by_one = build_detector("grounding_dino", {"pretrained": str(tiny_gd), "box_threshold": 0.0,
                                                   "text_threshold": 0.0, "max_boxes": 4, "batch_size": 1})
    alone = one_by_one.detect(image, ["the sky", "the man wearing a white shirt", "grass"])
    for batched, single in zip(found, alone):
        flat = [v for d in batched for v in d.box.as_tuple()]
        assert flat == pytest.approx([v for d in single for v in d.box.as_tuple()], abs=1e-5)
    assert detector.identity()["fingerprint"]


def test_thresholds_filter_boxes(tiny_gd):
    strict = build_detector("grounding_dino", {"pretrained": str(tiny_gd), "box_threshold": 1.0})
    assert strict.detect(Image.new("RGB", (90, 50)), ["the sky"]) == [[]]
    assert strict.detect(Image.new("RGB", (90, 50)), []) == []


@pytest.mark.parametrize("threshold", [0.0, 0.3])
def test_detections_equal_transformers_own_call_sequence(tiny_gd, threshold):
    # The reference: the processor, the model and post-processing with the token tensor, as the
    # transformers documentation calls them; the detector passes the tokens as ints, which is faster.
    import torch
    from transformers import AutoProcessor, GroundingDinoForObjectDetection

    processor = AutoProcessor.from_pretrained(tiny_gd)
    processor.tokenizer.padding_side = "right"
    model = GroundingDinoForObjectDetection.from_pretrained(tiny_gd).eval()
    detector = build_detector("grounding_dino", {"pretrained": str(tiny_gd), "box_threshold": threshold,
                                                 "text_threshold": threshold, "max_boxes": 100})
    phrases = ["the sky", "the dog on the grass", "a man in a white shirt"]
    for width in (64, 97, 130):
        image = Image.new("RGB", (width, 72), (width % 255, 120, 200))
        inputs = processor(images=[image] * 3, text=[query_text(p) for p in phrases], padding=True,
                           return_tensors="pt")
        with torch.inference_mode():
            outputs = model(**inputs)
        reference = processor.post_process_grounded_object_detection(
            outputs, inputs["input_ids"], threshold=threshold, text_threshold=threshold,
            target_sizes=[(72, width)] * 3)
        found = detector.detect(image, phrases)
        for detections, result in zip(found, reference):
            expected = sorted((s for s, label in zip(result["scores"].tolist(), result["text_labels"])
                               if label.strip()), reverse=True)
            assert [d.score for d in detections] == expected
            assert len(detections) == len(expected) > 0
