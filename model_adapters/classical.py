"""``classical``: a training-free, CPU-only grounding-IQA baseline built from no-reference measures.

    giqa-harness --model classical --tasks giqa_synth

Per-block measures (sharpness, noise, clipping, blockiness, colour balance, contrast) become regions on
the 20 x 20 grid, then a grounded description, Yes/No answers for the box in a referring question
(read through the format parser: ``Request.referring``), and short What/Why/How answers with boxes.
A level question of a score task gets a 1-5 number from the same findings (docs/score.md).
No randomness, no model weights, no knowledge of how any bench was made. ``blocks`` sets the analysis
tiles per side (default 40: half a grid cell).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Sequence

from giqa_harness.boxes.formats import get_format
from giqa_harness.errors import ConfigError
from giqa_harness.hookspecs import hookimpl
from giqa_harness.models import ModelAdapter, Request

if TYPE_CHECKING:
    from giqa_harness.classical.answers import Analysis


class ClassicalAdapter(ModelAdapter):
    name = "classical"
    description = "training-free CPU baseline: per-block no-reference measures -> grounded answers"
    default_box_format = "giqa_grid"

    def __init__(self, blocks: int = 40) -> None:
        if not isinstance(blocks, int) or isinstance(blocks, bool) or not 8 <= blocks <= 200:
            raise ConfigError(f"model 'classical': blocks must be an integer from 8 to 200, got {blocks!r}")
        self.blocks = blocks
        self.box_format = get_format("giqa_grid")
        self.model_args = {"blocks": blocks}
        self._analyses: dict[str, "Analysis"] = {}  # image digest -> analysis (a few KB each)

    def _analysis(self, request: Request) -> "Analysis":
        import numpy as np

        from giqa_harness.classical.answers import analyse

        pixels = np.asarray(request.image.convert("RGB"), dtype=np.uint8)
        digest = hashlib.sha1(pixels.tobytes() + repr(pixels.shape).encode()).hexdigest()
        if digest not in self._analyses:
            self._analyses[digest] = analyse(pixels, self.blocks)
        return self._analyses[digest]

    def generate(self, requests: Sequence[Request]) -> list[str]:
        # scipy.ndimage (half a second to import) loads here, not when `giqa-harness list` loads plugins.
        from giqa_harness.classical.answers import describe, level_answer, open_answer, yes_no

        out = []
        for req in requests:
            a = self._analysis(req)
            if req.kind == "des":
                out.append(describe(a, self.box_format, req.image_size))
            elif req.kind == "level":  # score tasks (docs/score.md)
                out.append(level_answer(a))
            elif req.kind == "vqa_yn":
                out.append(yes_no(a, req.question, req.referring, self.box_format, req.image_size))
            else:
                out.append(open_answer(a, req.question, req.referring, self.box_format, req.image_size))
        return out

    def identity(self) -> dict[str, Any]:
        from giqa_harness.classical import VERSION

        return {"model": self.name, "model_args": {**self.model_args, "version": VERSION}}


@hookimpl
def register_models(register):
    register(ClassicalAdapter)
