"""`sample`, the hand-built metric sample of tests and benchmarks: strings are parsed in the grid syntax."""

from __future__ import annotations

from giqa_harness.boxes.formats import CANONICAL_FORMAT, get_format
from giqa_harness.testing.samples import sample


def test_strings_are_parsed_on_a_100_pixel_image_and_empty_ones_exactly_as_the_parser_would():
    fmt = get_format(CANONICAL_FORMAT)
    built = sample("The [sky](<0, 59>) is bright.", "", question="")
    assert built.prediction == fmt.parse("The [sky](<0, 59>) is bright.", (100, 100))
    assert built.reference == fmt.parse("", (100, 100)) and built.question == fmt.parse("", (100, 100))
    assert built.prediction.plain == "The sky is bright." and built.reference.groundings == ()
