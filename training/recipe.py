"""Training recipes: YAML files with four sections, validated into a `Recipe`.

Every field has the paper's setting as its default (full fine-tuning, AdamW 0.9/0.999, cosine decay,
lr 2e-5, warm-up ratio 0.03, global batch 64, 2 epochs, bf16 where available), so a recipe file only
says what differs: the base model, where the data is, the per-device batch. Schema::

    name: llava-1.5-7b
    model:  {family: llava, base: llava-hf/llava-1.5-7b-hf, image_frame: null, freeze_vision_tower: true,
             gradient_checkpointing: false, trust_remote_code: false, attn_implementation: null}
    data:   {train: [giqa_train.json], image_root: null, kinds: both, box_text: giqa_grid,
             max_length: 2048, num_workers: 2}
    train:  {epochs: 2, learning_rate: 2.0e-5, lr_scheduler: cosine, warmup_ratio: 0.03,
             weight_decay: 0.0, adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1.0e-8,
             max_grad_norm: 1.0, global_batch_size: 64, per_device_batch_size: 1,
             mixed_precision: auto, seed: 42, max_steps: null}
    output: {dir: runs/NAME, save_every_steps: 500, keep_last: 2, log_every_steps: 1, resume: auto}

Overrides are ``section.field=value`` (or a bare ``field=value`` when one section has it); values are
read as YAML, so ``data.train=[a.json,b.json]`` is a list. Relative paths resolve against the working
directory. Errors name the recipe file and the field.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from giqa_harness.errors import ConfigError

RECIPES_DIR = Path(__file__).parent / "recipes"

FAMILIES = ("llava", "owl2")
PROMPTS = ("conversation", "chat_template")  # model_adapters.llava.PROMPT_MODES (not imported: no torch here)
KINDS = ("both", "des", "vqa")
MIXED_PRECISION = ("auto", "bf16", "fp16", "no")
LR_SCHEDULERS = ("cosine", "linear", "constant_with_warmup")


@dataclass
class ModelSection:
    """The base model. ``family`` ``llava`` covers LLaVA-1.5 and LLaVA-1.6/NeXT (told apart by the
    checkpoint's config). ``image_frame`` is how images are prepared before the processor (e.g.
    ``pad_square:mean`` for LLaVA-1.5); None means the base family adapter's default. Boxes in the
    answers always refer to the original image, as annotate/ writes them. ``prompt`` (LLaVA only):
    ``conversation`` (the authors' conversation, the llava adapter's default) or ``chat_template``."""

    family: str = ""
    base: str = ""
    image_frame: str | None = None
    freeze_vision_tower: bool = True  # what LLaVA-1.5's and mPLUG-Owl2's own fine-tuning scripts do
    gradient_checkpointing: bool = False
    trust_remote_code: bool = False
    attn_implementation: str | None = None
    prompt: str = "conversation"


@dataclass
class DataSection:
    """Conversation JSON files (as annotate/ writes them) and how to read them.

    ``image_root`` None reads image paths relative to each JSON file's folder. ``kinds`` keeps DES
    samples, VQA samples or both; ``box_text`` is the box format the answers are written in
    (``giqa_grid``, or another registered format for the continuous-box ablation)."""

    train: list[str] = field(default_factory=list)
    image_root: str | None = None
    kinds: str = "both"
    box_text: str = "giqa_grid"
    max_length: int = 2048
    num_workers: int = 2


@dataclass
class TrainSection:
    """Optimisation. ``global_batch_size`` = per-device batch x gradient accumulation x processes;
    accumulation is derived and must divide exactly. ``max_steps`` (optional) replaces the epoch count."""

    epochs: int = 2
    learning_rate: float = 2e-5
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    global_batch_size: int = 64
    per_device_batch_size: int = 1
    mixed_precision: str = "auto"
    seed: int = 42
    max_steps: int | None = None


@dataclass
class OutputSection:
    """Where checkpoints, logs and the final model go. ``resume``: ``auto`` (continue from the last
    complete checkpoint in ``dir`` when there is one), ``never``, or a checkpoint folder."""

    dir: str = ""
    save_every_steps: int = 500
    keep_last: int = 2
    log_every_steps: int = 1
    resume: str = "auto"


@dataclass
class Recipe:
    name: str = "recipe"
    description: str = ""
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    train: TrainSection = field(default_factory=TrainSection)
    output: OutputSection = field(default_factory=OutputSection)
    source: str = field(default="", compare=False)  # the file it came from, for error messages

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.pop("source")
        return out


SECTIONS: dict[str, type] = {"model": ModelSection, "data": DataSection, "train": TrainSection, "output": OutputSection}
TOP_LEVEL = {"name", "description", *SECTIONS}


def builtin_recipes() -> dict[str, str]:
    """Name -> description of the recipes shipped in training/recipes (a name works as a path)."""
    import yaml

    out = {}
    for path in sorted(RECIPES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out[path.stem] = str(data.get("description", "")) if isinstance(data, dict) else ""
    return out


def recipe_path(spec: str | Path) -> Path:
    """A recipe file from a path or the name of a built-in recipe."""
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    builtin = RECIPES_DIR / f"{spec}.yaml"
    if builtin.is_file():
        return builtin
    names = list(builtin_recipes())
    close = difflib.get_close_matches(str(spec), names, n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise ConfigError(
        f"recipe {str(spec)!r} is neither a file nor a built-in recipe.{hint} Built-in: {', '.join(names)}")


def load_recipe(spec: str | Path, overrides: Sequence[str] = ()) -> Recipe:
    """Read a recipe file (or built-in name), apply ``key=value`` overrides, validate."""
    import yaml

    path = recipe_path(spec)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a recipe must be a mapping of sections, got {type(data).__name__}")
    data.setdefault("name", path.stem)
    for item in overrides:
        apply_override(data, item)
    return recipe_from_dict(data, source=str(path))


def apply_override(data: dict[str, Any], item: str) -> None:
    """``section.field=value`` (or an unambiguous bare ``field=value``) into the raw recipe mapping."""
    import yaml

    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"bad override {item!r}: expected section.field=value, e.g. train.learning_rate=1e-5")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if key in ("name", "description"):
        data[key] = value
        return
    section, dot, name = key.partition(".")
    if not dot:
        owners = [s for s, cls in SECTIONS.items() if name_in(cls, key)]
        if len(owners) != 1:
            where = f"it is in {', '.join(owners)}" if owners else "no section has it" + _close_field(key)
            raise ConfigError(f"override {item!r}: write it as section.{key}=... ({where})")
        section, name = owners[0], key
    if section not in SECTIONS:
        raise ConfigError(f"override {item!r}: unknown section {section!r}; sections: {', '.join(SECTIONS)}")
    target = data.setdefault(section, {})
    if not isinstance(target, dict):
        raise ConfigError(f"override {item!r}: section {section!r} of the recipe is not a mapping")
    target[name] = value


def _close_field(key: str) -> str:
    """``learnng_rate`` -> "; did you mean train.learning_rate?" (fields of every section)."""
    qualified = {f.name: f"{section}.{f.name}" for section, cls in SECTIONS.items() for f in dataclasses.fields(cls)}
    close = difflib.get_close_matches(key, list(qualified), n=1, cutoff=0.6)
    return f"; did you mean {qualified[close[0]]}?" if close else ""


def name_in(cls: type, key: str) -> bool:
    return any(f.name == key for f in dataclasses.fields(cls))


def recipe_from_dict(data: dict[str, Any], source: str = "<recipe>") -> Recipe:
    unknown = set(data) - TOP_LEVEL
    if unknown:
        raise ConfigError(_unknown_message(source, "", sorted(unknown), sorted(TOP_LEVEL)))
    sections = {}
    for name, cls in SECTIONS.items():
        raw = data.get(name) or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: section {name!r} must be a mapping, got {type(raw).__name__}")
        sections[name] = _build_section(cls, raw, name, source)
    recipe = Recipe(name=str(data.get("name", "recipe")), description=str(data.get("description") or ""),
                    source=source, **sections)
    validate(recipe)
    return recipe


def _unknown_message(source: str, section: str, unknown: list[str], known: list[str]) -> str:
    prefix = f"{section}." if section else ""
    parts = []
    for key in unknown:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        parts.append(f"{prefix}{key}" + (f" (did you mean {prefix}{close[0]}?)" if close else ""))
    return f"{source}: unknown field {', '.join(parts)}; known fields: {', '.join(prefix + k for k in known)}"


def _build_section(cls: type, raw: dict[str, Any], section: str, source: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(_unknown_message(source, section, unknown, sorted(fields)))
    values = {key: _convert(raw[key], str(fields[key].type), f"{source}: field {section}.{key}") for key in raw}
    return cls(**values)


def _convert(value: Any, annotation: str, where: str) -> Any:
    """Check and convert one value against its annotation (the few shapes recipes use)."""
    optional = annotation.endswith("| None")
    base = annotation.removesuffix("| None").strip()
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{where} must be set ({base}), got null")
    if base == "bool":
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    if base == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where} must be an integer, got {value!r}")
    if base == "float":
        # YAML 1.1 reads "2e-5" (no dot) as a string: accept it, it is what people write.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value))
        except ValueError:
            raise ConfigError(f"{where} must be a number, got {value!r}") from None
    if base == "str":
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{where} must be a string, got {value!r}")
    if base == "list[str]":
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list) and all(isinstance(v, str) for v in items):
            return list(items)
        raise ConfigError(f"{where} must be a path or a list of paths, got {value!r}")
    raise AssertionError(f"recipe field type {annotation!r} has no converter")  # a bug here, not a user error


def _choice(value: str, allowed: Sequence[str], where: str) -> None:
    if value not in allowed:
        raise ConfigError(f"{where} is {value!r}; expected one of {', '.join(allowed)}")


def validate(recipe: Recipe) -> None:
    """Cross-field and range checks; each error names the field."""
    src = recipe.source
    m, d, t, o = recipe.model, recipe.data, recipe.train, recipe.output
    if not m.family:
        raise ConfigError(f"{src}: field model.family must be set ({', '.join(FAMILIES)})")
    _choice(m.family, FAMILIES, f"{src}: field model.family")
    if not m.base:
        raise ConfigError(f"{src}: field model.base must be set (a local checkpoint folder or a hub id)")
    if m.image_frame is not None:
        from giqa_harness.boxes.frames import parse_frame

        try:
            parse_frame(m.image_frame)
        except ConfigError as exc:
            raise ConfigError(f"{src}: field model.image_frame: {exc}") from None
    _choice(m.prompt, PROMPTS, f"{src}: field model.prompt")
    _choice(d.kinds, KINDS, f"{src}: field data.kinds")
    _choice(t.mixed_precision, MIXED_PRECISION, f"{src}: field train.mixed_precision")
    _choice(t.lr_scheduler, LR_SCHEDULERS, f"{src}: field train.lr_scheduler")
    positive = {
        "data.max_length": d.max_length, "train.epochs": t.epochs, "train.global_batch_size": t.global_batch_size,
        "train.per_device_batch_size": t.per_device_batch_size, "output.log_every_steps": o.log_every_steps,
        "output.keep_last": o.keep_last,
    }
    if t.max_steps is not None:
        positive["train.max_steps"] = t.max_steps
    for key, value in positive.items():
        if value < 1:
            raise ConfigError(f"{src}: field {key} must be at least 1, got {value}")
    for key, value in {"data.num_workers": d.num_workers, "output.save_every_steps": o.save_every_steps}.items():
        if value < 0:
            raise ConfigError(f"{src}: field {key} must be 0 or more, got {value}")
    if t.learning_rate <= 0:
        raise ConfigError(f"{src}: field train.learning_rate must be positive, got {t.learning_rate}")
    if not 0 <= t.warmup_ratio < 1:
        raise ConfigError(f"{src}: field train.warmup_ratio must be in [0, 1), got {t.warmup_ratio}")
    for key, beta in (("train.adam_beta1", t.adam_beta1), ("train.adam_beta2", t.adam_beta2)):
        if not 0 <= beta < 1:
            raise ConfigError(f"{src}: field {key} must be in [0, 1), got {beta}")
    if t.global_batch_size % t.per_device_batch_size:
        raise ConfigError(
            f"{src}: field train.global_batch_size ({t.global_batch_size}) is not a multiple of "
            f"train.per_device_batch_size ({t.per_device_batch_size})"
        )
    if not d.train:
        raise ConfigError(f"{src}: field data.train must list at least one conversation JSON file "
                          "(override it: data.train=PATH)")
    if not o.dir:
        raise ConfigError(f"{src}: field output.dir must be set (override it: output.dir=PATH)")
