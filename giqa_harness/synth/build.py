"""Generate the bench once into the cache, keyed by generator version and seed.

Layout of ``cache_root()/giqa_synth/v<version>[-seed<seed>]/``::

    images/000.png ...        100 PNG images (fixed encoder settings, no metadata)
    data.jsonl                250 records in the schema of giqa_harness/datasets.py
    annotations.jsonl         per image: source photo, crop, and every applied degradation
    manifest.json             version, seed, composition, sha256 of every file and source photo

Everything is a function of (generator version, seed, the bundled photos): regenerating gives
byte-identical files. The folder appears atomically (written aside, then renamed), so concurrent runs
and interrupted runs never leave a half-written bench behind: the staging folder of a build that was
killed is removed by the next call (`leftovers`), and a bench folder without its manifest (written
last) is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..leftovers import remove_left_overs, temp_name
from ..paths import cache_root
from ..progress import status
from .degrade import apply_all
from .plan import Content, ImagePlan, plan_image
from .sources import make_base, source_digests
from .text import DES_QUESTIONS, description, pick
from .vqa import COMPOSITION, WRITERS, Sample

GENERATOR_VERSION = 1  # bump whenever any output byte would change
N_IMAGES = 100
DEFAULT_SEED = 0
_VQA_STREAM = 1_000_003  # the seed-sequence key of the VQA assignment, apart from any image index
_MAX_VQA_PER_IMAGE = 2


def bench_folder(seed: int = DEFAULT_SEED, root: Path | None = None) -> Path:
    base = root if root is not None else cache_root() / "giqa_synth"
    return base / (f"v{GENERATOR_VERSION}" if seed == DEFAULT_SEED else f"v{GENERATOR_VERSION}-seed{seed}")


def ensure_bench(seed: int = DEFAULT_SEED, root: Path | None = None) -> Path:
    """The bench folder, generated first if it is not in the cache yet."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"giqa_synth: the seed (dataset.builder_args.seed) must be a non-negative integer, got {seed!r}")
    folder = bench_folder(seed, root)
    remove_left_overs(folder.parent)  # staging folders of builds that were killed
    if (folder / "manifest.json").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / temp_name(f".{folder.name}")
    status(f"giqa_synth: generating the synthetic bench into {folder} (first use only, a few seconds)")
    try:
        generate(staging, seed)
        if folder.exists() and not (folder / "manifest.json").is_file():
            _discard_incomplete(folder)
        try:
            os.rename(staging, folder)
        except OSError:
            if not (folder / "manifest.json").is_file():  # not another process winning the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _discard_incomplete(folder: Path) -> None:
    """Remove a bench folder without its manifest (written last): a copy or an older build cut short.
    It is renamed away first, so a reader never sees it half deleted."""
    trash = folder.parent / temp_name(f".{folder.name}-incomplete")
    try:
        os.rename(folder, trash)
    except FileNotFoundError:
        return  # another process moved it first
    if (trash / "manifest.json").is_file():  # another process completed it meanwhile: put it back
        try:
            os.rename(trash, folder)
            return
        except OSError:
            pass
    shutil.rmtree(trash, ignore_errors=True)


def _write_png(path: Path, pixels: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(pixels).save(path, format="PNG", compress_level=1, optimize=False)


def _vqa_assignment(plans: list[ImagePlan], contents: list[Content], seed: int) -> dict[int, list[tuple[str, str, Sample]]]:
    """(qtype, mode, sample) per image index: 150 samples, one or two per image.

    The hardest slots (true negatives over the whole image) are placed first, each on the first image
    in a seeded random order that still has room and where the sample can be written truthfully.
    """
    rng = np.random.default_rng([seed, _VQA_STREAM])
    capacity = {i: 1 for i in range(len(plans))}
    for i in rng.choice(len(plans), size=sum(COMPOSITION.values()) - len(plans), replace=False):
        capacity[int(i)] = _MAX_VQA_PER_IMAGE
    assigned: dict[int, list[tuple[str, str, Sample]]] = {i: [] for i in range(len(plans))}
    order = sorted(COMPOSITION, key=lambda k: (k != ("no", "grounding"), k != ("no", "referring")))
    for qtype, mode in order:
        for _ in range(COMPOSITION[(qtype, mode)]):
            for i in rng.permutation(len(plans)):
                i = int(i)
                if len(assigned[i]) >= capacity[i]:
                    continue
                attempt = np.random.default_rng([seed, i, len(assigned[i]), _stable_key(qtype, mode)])
                sample = WRITERS[(qtype, mode)](plans[i], contents[i], attempt)
                if sample is not None:
                    assigned[i].append((qtype, mode, sample))
                    break
            else:
                raise RuntimeError(f"giqa_synth seed {seed}: no image can take a {qtype}/{mode} question")
    return assigned


def _stable_key(*words: str) -> int:
    """A stable integer for a tuple of words (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256("/".join(words).encode()).digest()[:4], "big")


def generate(folder: Path, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Write the whole bench into ``folder`` (created); returns the manifest."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    plans, contents, records, annotations = [], [], [], []
    des: dict[int, dict[str, Any]] = {}
    for i in range(N_IMAGES):
        rng = np.random.default_rng([seed, i])
        base = make_base(i, rng)
        content = Content(base.pixels)
        plan = plan_image(i, base, content, rng)
        pixels = apply_all(base.pixels, list(plan.degradations))
        image = f"images/{i:03d}.png"
        _write_png(folder / image, pixels)
        size = [int(pixels.shape[1]), int(pixels.shape[0])]
        des[i] = {"id": f"synth_{i:03d}_des", "image": image, "question": pick(rng, DES_QUESTIONS),
                  "answer": description(base.subject, plan.degradations, rng), "kind": "des", "image_size": size}
        plans.append(plan)
        contents.append(content)
    vqa = _vqa_assignment(plans, contents, seed)
    for i, plan in enumerate(plans):
        records.append(des[i])
        asked = []
        for j, (qtype, mode, sample) in enumerate(vqa[i]):
            record_id = f"synth_{i:03d}_vqa{j}"
            records.append({"id": record_id, "image": des[i]["image"], "question": sample.question,
                            "answer": sample.answer, "kind": "vqa_yn" if qtype in ("yes", "no") else "vqa_w",
                            "qtype": qtype, "mode": mode, "image_size": des[i]["image_size"]})
            asked.append({"id": record_id, **sample.meta()})
        base = plan.base
        annotations.append({"image": des[i]["image"], "size": des[i]["image_size"], "source": base.source,
                            "crop": list(base.crop), "mirrored": base.mirrored,
                            "degradations": [d.to_json() for d in plan.degradations], "vqa": asked})
    _write_jsonl(folder / "data.jsonl", records)
    _write_jsonl(folder / "annotations.jsonl", annotations)
    manifest = {
        "generator": "giqa_synth", "version": GENERATOR_VERSION, "seed": seed, "images": N_IMAGES,
        "composition": _composition(records), "sources": source_digests(),
        "files": {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                  for p in sorted(folder.rglob("*")) if p.is_file()},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _composition(records: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in records:
        key = r["kind"] if r["kind"] == "des" else f"{r['kind']}:{r['qtype']}:{r['mode']}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
