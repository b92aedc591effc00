"""``giqa-harness parse``: read a model answer's boxes from the shell, or ``--render`` boxes into a
model's syntax. Never imports torch.

    giqa-harness parse --format shikra --image-size 640x480 "A dog[0.1,0.2,0.5,0.9] runs."
    giqa-harness parse --format kosmos2 --image-size 640x480 --render '[{"phrase": "the dog", "boxes": [[0.1,0.2,0.3,0.4]]}]'
    giqa-harness parse --format ferret --image-size 640x480 --render 0.1,0.2,0.3,0.4

Parsing prints JSON: the format (with its frame), the groundings (phrase, boxes as four floats of the
original image, span in the text), the plain text and how many boxes were dropped. Rendering reads
groundings as JSON (a list of ``{"phrase", "boxes"}``, or parse's own output) or bare boxes
``x1,y1,x2,y2`` (several separated by ``;`` or new lines) and prints the text in the model's syntax.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, Sequence

from ..errors import ConfigError
from .helptext import HelpFormatter

_SIZE = re.compile(r"\s*(\d+)\s*[xX]\s*(\d+)\s*")
_EXAMPLES = """examples:
  giqa-harness parse --format shikra --image-size 640x480 "A dog[0.1,0.2,0.5,0.9] runs."
  giqa-harness parse --format qwen25_vl --image-size 640x480 --frame resized:644x476 '{"bbox_2d": [10, 20, 300, 400], "label": "dog"}'
  giqa-harness parse --format kosmos2 --image-size 640x480 --render '[{"phrase": "the dog", "boxes": [[0.1, 0.2, 0.3, 0.4]]}]'
  giqa-harness parse --format ferret --image-size 640x480 --option region_token=false --render 0.1,0.2,0.3,0.4"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="giqa-harness parse",
        description="Parse a model answer into boxes of the original image, or --render boxes into a model's syntax.",
        epilog=_EXAMPLES, formatter_class=HelpFormatter,
    )
    p.add_argument("--format", required=True, help="box format name (giqa-harness list formats)")
    p.add_argument("--image-size", required=True, metavar="WxH", help="original image size in pixels")
    p.add_argument("--frame", help="frame spec: original, pad_square[:white|mean|R,G,B], center_crop, resized:WxH, "
                                   "smart_resize[:FACTOR,MIN,MAX] (default: the format's own)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="format option, e.g. decimals=3 or region_token=false (repeatable)")
    p.add_argument("--render", action="store_true", help="render boxes into the format's syntax instead of parsing")
    p.add_argument("text", nargs="?", default="-", help="the answer (or, with --render, the boxes); '-' reads stdin")
    return p


def image_size(spec: str) -> tuple[int, int]:
    match = _SIZE.fullmatch(spec)
    if match is None or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise ConfigError(f"--image-size {spec!r}: expected WIDTHxHEIGHT in pixels, e.g. 640x480")
    return int(match.group(1)), int(match.group(2))


def format_options(items: Sequence[str]) -> dict[str, Any]:
    from ..models import parse_model_args

    options: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--option {item!r}: expected KEY=VALUE")
        options.update(parse_model_args(item))
    return options


def read_groundings(text: str) -> list[Any]:
    """Groundings from ``--render`` input: JSON, or bare ``x1,y1,x2,y2`` boxes (one unnamed grounding)."""
    from ..boxes.geometry import Box
    from ..boxes.grounded import Grounding

    stripped = text.strip()
    try:
        if stripped.startswith(("[{", "{")) or stripped == "[]":
            data = json.loads(stripped)
            if isinstance(data, dict):
                data = data.get("groundings", [data])
            return [Grounding.from_json(item) for item in data]
        boxes = [Box(*(float(v) for v in part.split(","))) for part in re.split(r"[;\n]+", stripped) if part.strip()]
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(
            f"--render input {stripped[:80]!r}: {exc}. Give JSON like "
            '[{"phrase": "the dog", "boxes": [[0.1, 0.2, 0.3, 0.4]]}] or boxes x1,y1,x2,y2 in [0, 1] '
            "with x1 <= x2 and y1 <= y2"
        ) from None
    return [Grounding("", tuple(boxes))]


def main(argv: Sequence[str], command: str = "parse") -> int:
    from ..boxes.formats import get_format

    args = build_parser().parse_args(list(argv))
    text = sys.stdin.read() if args.text == "-" else args.text
    size = image_size(args.image_size)
    fmt = get_format(args.format, args.frame, **format_options(args.option))
    if args.render:
        groundings = read_groundings(text)
        pieces = [fmt.render(g, size) if g.phrase else fmt.render_boxes(g.boxes, size) for g in groundings]
        print(" ".join(p for p in pieces if p))
        return 0
    parsed = fmt.parse(text, size)
    out = {
        "format": fmt.describe(),
        "image_size": list(size),
        "groundings": [{**g.to_json(), "span": list(g.span) if g.span else None} for g in parsed.groundings],
        "plain": parsed.plain,
        "dropped": parsed.dropped,
    }
    print(_NUMBER_LIST.sub(_one_line, json.dumps(out, indent=2, ensure_ascii=False)))
    return 0


_NUMBER_LIST = re.compile(r"\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]")


def _one_line(match: re.Match[str]) -> str:
    """Boxes, spans and sizes on one line each: ``[0.1, 0.2, 0.3, 0.4]``."""
    return "[" + ", ".join(v.strip() for v in match.group(1).split(",")) + "]"
