"""Conversation JSON -> model inputs whose labels cover the answer tokens only.

Input, as annotate/ writes it (LLaVA's training format)::

    [{"id": "0001_des", "image": "images/0001.jpg", "kind": "des",
      "conversations": [{"from": "human", "value": "<image>\\nDescribe the quality ..."},
                        {"from": "gpt", "value": "The [sky](<0, 59>) is over-exposed ..."}]}]

``image`` is relative to the image root (the JSON file's folder unless the recipe names one) and may
not escape it. ``kind`` (``des``, ``vqa_yn``, ``vqa_w`` or ``vqa``) is optional unless the recipe keeps
one kind only. Turns alternate human/gpt; every gpt turn is a target.

Text: each turn's prompt is rendered exactly as the adapter renders a question (the family's
conversation, system sentence before the first turn, or the processor's chat template), the answer follows it and ends with
the tokenizer's end-of-sequence token (so the model learns to stop). The whole text is tokenized once
and a token is a target when its character span lies inside an answer; the processor then expands the
one image token into the model's image tokens, which are never targets. Boxes stay plain text in the
grid syntax ``[phrase](<a, b>)``; ``box_text`` names another registered format to rewrite them into
(the paper's continuous-box ablation), rendered relative to the original image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

from giqa_harness.boxes.formats import CANONICAL_FORMAT, BoxFormat, get_format, rerender
from giqa_harness.boxes.frames import OriginalFrame
from giqa_harness.datasets import iter_records, safe_join
from giqa_harness.errors import DatasetError, ModelLoadError

if TYPE_CHECKING:
    from PIL import Image

IGNORE_INDEX = -100  # what torch's cross-entropy (and every HF causal LM loss) skips
IMAGE_MARKERS = ("<image>", "<|image|>")  # LLaVA's and mPLUG-Owl2's placeholders in the human turn
KIND_GROUPS = {"des": "des", "vqa": "vqa", "vqa_yn": "vqa", "vqa_w": "vqa"}


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str


@dataclass(frozen=True)
class Conversation:
    id: str
    image: Path
    turns: tuple[Turn, ...]
    kind: str | None = None  # "des" or "vqa" when the record says


# -- reading ----------------------------------------------------------------------------------------


def read_conversations(files: Sequence[str | Path], image_root: str | Path | None = None) -> list[Conversation]:
    """Every conversation of every file, validated; errors name the file and record."""
    out: list[Conversation] = []
    seen: dict[str, str] = {}
    for file in map(Path, files):
        if not file.is_file():
            raise DatasetError(f"conversation file {file} does not exist (recipe field data.train)")
        root = Path(image_root) if image_root is not None else file.parent
        if not root.is_dir():
            raise DatasetError(f"image root {root} does not exist (recipe field data.image_root)")
        for number, record in iter_records(file):
            where = f"{file}: record {number}"
            conversation = parse_record(record, root, where)
            if conversation.id in seen:
                raise DatasetError(f"{where}: duplicate id {conversation.id!r} (first in {seen[conversation.id]})")
            seen[conversation.id] = where
            out.append(conversation)
    return out


def parse_record(record: Any, image_root: Path, where: str) -> Conversation:
    if not isinstance(record, dict):
        raise DatasetError(f"{where}: a record must be a JSON object")
    for key in ("id", "image", "conversations"):
        if key not in record:
            raise DatasetError(f"{where}: missing field {key!r}")
    if not isinstance(record["image"], str):
        raise DatasetError(f"{where}: field 'image' must be a string path")
    turns_raw = record["conversations"]
    if not isinstance(turns_raw, list) or not turns_raw or len(turns_raw) % 2:
        raise DatasetError(f"{where}: field 'conversations' must be a non-empty list of human/gpt pairs")
    turns = []
    for i in range(0, len(turns_raw), 2):
        human, gpt = turns_raw[i], turns_raw[i + 1]
        for message, role, index in ((human, "human", i), (gpt, "gpt", i + 1)):
            well_formed = isinstance(message, dict) and message.get("from") == role
            if not well_formed or not isinstance(message.get("value"), str):
                raise DatasetError(f"{where}: conversations[{index}] must be {{'from': '{role}', 'value': str}}")
        turns.append(Turn(question=strip_image_marker(human["value"]), answer=gpt["value"].strip()))
    kind = record.get("kind")
    if kind is not None and kind not in KIND_GROUPS:
        raise DatasetError(f"{where}: field 'kind' is {kind!r}; expected one of {', '.join(KIND_GROUPS)}")
    image = safe_join(image_root, record["image"], where)
    if not image.is_file():
        raise DatasetError(f"{where}: image {record['image']!r} not found under {image_root} (set data.image_root "
                           "to the folder the image paths are relative to, e.g. the images folder annotate read)")
    return Conversation(id=str(record["id"]), image=image, turns=tuple(turns),
                        kind=KIND_GROUPS[kind] if kind is not None else None)


def strip_image_marker(text: str) -> str:
    """The question without the image placeholder: the prompt template places the image itself."""
    for marker in IMAGE_MARKERS:
        text = text.replace(marker, "")
    return text.strip()


def select_kinds(conversations: Sequence[Conversation], kinds: str) -> list[Conversation]:
    """The paper's data ablation: ``des``, ``vqa`` or ``both``. Filtering needs every record's kind."""
    if kinds == "both":
        return list(conversations)
    unknown = [c.id for c in conversations if c.kind is None]
    if unknown:
        raise DatasetError(
            f"data.kinds={kinds} needs a 'kind' field (des, vqa_yn, vqa_w) in every record; missing in "
            f"{len(unknown)} record(s), e.g. {unknown[0]!r}"
        )
    return [c for c in conversations if c.kind == kinds]


# -- box text ---------------------------------------------------------------------------------------


def box_text_format(name: str) -> BoxFormat | None:
    """The format answers are rewritten into (None: keep the grid text), in the original frame."""
    if name == CANONICAL_FORMAT:
        return None
    return get_format(name).with_frame(OriginalFrame())


def rewrite_boxes(conversation: Conversation, target: BoxFormat | None, image_size: tuple[int, int]) -> Conversation:
    """Every grid grounding of questions and answers rewritten in ``target``'s syntax."""
    if target is None:
        return conversation
    source = get_format(CANONICAL_FORMAT)

    def convert(text: str) -> str:
        return rerender(text, source, target, image_size)[0]

    return replace(conversation, turns=tuple(Turn(convert(t.question), convert(t.answer)) for t in conversation.turns))


# -- prompts ----------------------------------------------------------------------------------------


class PromptRenderer:
    """Prompt and answer pieces of a conversation, rendered as the adapter renders a single question.

    With a ``template`` (holding ``image_token`` and ``{question}``) it is the first turn's prompt and,
    without its image marker, every later turn's; ``system`` (the conversation's system sentence) comes
    once, before the first turn, joined by a space. Otherwise ``processor``'s chat template renders the
    messages (the llava adapter's ``prompt=chat_template``).
    """

    def __init__(self, eos_token: str, image_token: str, template: str | None = None, processor: Any = None,
                 system: str = "") -> None:
        if template is None and processor is None:
            raise ValueError("a PromptRenderer needs a template or a processor with a chat template")
        self.eos, self.image_token, self.template, self.processor = eos_token, image_token, template, processor
        self.system = system

    def pieces(self, turns: Sequence[Turn]) -> list[tuple[str, str]]:
        """(prompt piece, answer piece) per turn; the pieces concatenate to the whole text."""
        return self._template_pieces(turns) if self.template is not None else self._chat_pieces(turns)

    def _end(self, answer_piece: str) -> str:
        return answer_piece if self.eos in answer_piece else answer_piece.rstrip() + self.eos

    def _template_pieces(self, turns: Sequence[Turn]) -> list[tuple[str, str]]:
        assert self.template is not None
        later = self.template.replace(self.image_token + "\n", "").replace(self.image_token, "")
        first = f"{self.system} {self.template}" if self.system else self.template
        return [((first if i == 0 else later).replace("{question}", t.question), self._end(" " + t.answer))
                for i, t in enumerate(turns)]

    def _render(self, messages: list[dict[str, Any]], add_generation_prompt: bool) -> str:
        return self.processor.apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tokenize=False)

    def _chat_pieces(self, turns: Sequence[Turn]) -> list[tuple[str, str]]:
        messages: list[dict[str, Any]] = []
        out = []
        rendered = ""  # the template's own rendering of everything so far
        for i, turn in enumerate(turns):
            content = ([{"type": "image"}] if i == 0 else []) + [{"type": "text", "text": turn.question}]
            messages.append({"role": "user", "content": content})
            prompt = self._render(messages, True)
            messages.append({"role": "assistant", "content": [{"type": "text", "text": turn.answer}]})
            full = self._render(messages, False)
            if not prompt.startswith(rendered) or not full.startswith(prompt):
                raise ModelLoadError(
                    "the processor's chat template does not render a conversation as a growing prefix "
                    "(prompt, then prompt + answer); training cannot mask answers with it"
                )
            out.append((prompt[len(rendered):], self._end(full[len(prompt):])))
            rendered = full
        return out


# -- encoding ---------------------------------------------------------------------------------------


def load_image(path: Path) -> "Image.Image":
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except OSError as exc:
        raise DatasetError(f"cannot read image {path}: {exc}") from None


def text_and_spans(renderer: PromptRenderer, turns: Sequence[Turn]) -> tuple[str, list[tuple[int, int]]]:
    """The whole conversation text and the character span of every answer piece in it."""
    text, spans = "", []
    for prompt, answer in renderer.pieces(turns):
        text += prompt
        spans.append((len(text), len(text) + len(answer)))
        text += answer
    return text, spans


@dataclass
class ExampleEncoder:
    """One conversation -> tensors (``input_ids``, ``labels`` and the processor's pixel tensors) for a
    family whose transformers processor expands the image token (LLaVA, LLaVA-NeXT).

    ``prepare_image`` is the adapter's own preprocessing (frame, squash); ``processor`` the base
    checkpoint's. Picklable, so data-loader workers can run it.
    """

    processor: Any
    renderer: PromptRenderer
    prepare_image: Callable[["Image.Image"], "Image.Image"]
    box_format: BoxFormat | None = None
    max_length: int = 2048

    def encode(self, conversation: Conversation) -> dict[str, Any]:
        import torch

        image = load_image(conversation.image)
        conversation = rewrite_boxes(conversation, self.box_format, image.size)
        text, spans = text_and_spans(self.renderer, conversation.turns)
        tokenizer = self.processor.tokenizer
        plain = tokenizer(text, return_offsets_mapping=True)
        labels = [tok if _inside(offset, spans) else IGNORE_INDEX
                  for tok, offset in zip(plain["input_ids"], plain["offset_mapping"])]
        inputs = self.processor(images=[self.prepare_image(image)], text=[text], return_tensors="pt")
        ids = inputs["input_ids"][0].tolist()
        labels, image_end = expand_image_labels(ids, plain["input_ids"], labels, self.image_token_id, conversation.id)
        if len(ids) > self.max_length:
            if image_end > self.max_length:
                raise DatasetError(f"sample {conversation.id!r}: its image tokens alone pass data.max_length "
                                   f"({self.max_length}); raise data.max_length")
            ids, labels = ids[: self.max_length], labels[: self.max_length]
        example = {key: value[0] for key, value in inputs.items() if key not in ("input_ids", "attention_mask")}
        example["input_ids"] = torch.tensor(ids, dtype=torch.long)
        example["labels"] = torch.tensor(labels, dtype=torch.long)
        return example

    @property
    def image_token_id(self) -> int:
        return int(self.processor.tokenizer.convert_tokens_to_ids(self.renderer.image_token))


def _inside(offset: Sequence[int], spans: Sequence[tuple[int, int]]) -> bool:
    start, end = offset
    return end > start and any(s <= start and end <= e for s, e in spans)


def expand_image_labels(expanded: list[int], plain: list[int], labels: list[int], image_id: int,
                        sample: str) -> tuple[list[int], int]:
    """Labels for the processor's ids, which repeat the single image token of ``plain``; returns them
    and the index just past the image tokens. A mismatch is a broken processor, reported."""
    if plain.count(image_id) != 1:
        raise DatasetError(f"sample {sample!r}: expected one image token in the rendered text, "
                           f"found {plain.count(image_id)}; remove image markers from its turns")
    at = plain.index(image_id)
    n = len(expanded) - len(plain) + 1
    same_text = expanded[:at] == plain[:at] and expanded[at + n:] == plain[at + 1:]
    if n < 1 or not same_text or set(expanded[at:at + n]) != {image_id}:
        raise ModelLoadError(f"sample {sample!r}: the processor's token ids differ from the tokenizer's beyond the "
                             "image tokens; its tokenizer must be a fast tokenizer that treats the image token as "
                             "special")
    return labels[:at] + [IGNORE_INDEX] * n + labels[at + 1:], at + n


def collate(examples: Sequence[dict[str, Any]], pad_token_id: int) -> dict[str, Any]:
    """Right-padded batch: ids with ``pad_token_id``, labels with IGNORE_INDEX, attention mask 0;
    other tensors (pixels, image sizes) stacked, zero-padded where their shapes differ (NeXT tiles)."""
    import torch

    length = max(int(e["input_ids"].shape[0]) for e in examples)
    batch: dict[str, Any] = {
        "input_ids": torch.full((len(examples), length), pad_token_id, dtype=torch.long),
        "labels": torch.full((len(examples), length), IGNORE_INDEX, dtype=torch.long),
        "attention_mask": torch.zeros((len(examples), length), dtype=torch.long),
    }
    for i, e in enumerate(examples):
        n = int(e["input_ids"].shape[0])
        batch["input_ids"][i, :n] = e["input_ids"]
        batch["labels"][i, :n] = e["labels"]
        batch["attention_mask"][i, :n] = 1
    for key in examples[0]:
        if key in batch:
            continue
        tensors = [e[key] for e in examples]
        shape = [max(int(t.shape[d]) for t in tensors) for d in range(tensors[0].dim())]
        stacked = torch.zeros((len(tensors), *shape), dtype=tensors[0].dtype)
        for i, t in enumerate(tensors):
            stacked[(i, *[slice(0, s) for s in t.shape])] = t
        batch[key] = stacked
    return batch


class Encoder(Protocol):
    """What turns a conversation into one example's tensors (`ExampleEncoder`, the Owl2 encoder)."""

    def encode(self, conversation: Conversation) -> dict[str, Any]: ...


class ConversationDataset:
    """Map-style data set (what torch's DataLoader needs): encodes each conversation when read."""

    def __init__(self, conversations: Sequence[Conversation], encoder: Encoder) -> None:
        self.conversations = list(conversations)
        self.encoder = encoder

    def __len__(self) -> int:
        return len(self.conversations)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.encoder.encode(self.conversations[index])
