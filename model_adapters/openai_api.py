"""``openai``: any OpenAI-compatible chat endpoint (OpenAI, vLLM, SGLang, LMDeploy, ...) as a model.

    giqa-harness --model openai \\
        --model_args model=Qwen2-VL-7B-Instruct,base_url=http://localhost:8000/v1,box_format=qwen2_vl \\
        --tasks giqa_vqa

Model arguments:

- ``model`` (required): the model name the server knows.
- ``base_url``: default ``https://api.openai.com/v1``.
- ``box_format`` (required): how this model writes boxes (``giqa-harness list formats``); a generic
  endpoint can serve any model, so nothing here guesses it.
- ``frame``: how the model sees the image (``original``, ``pad_square:white``...); default: the box
  format's own default frame. The image is sent already framed (padded or cropped), so the model's
  coordinates refer to the image it really saw.
- ``concurrency`` (8), ``timeout`` (60 s for the whole request), ``max_retries`` (5), ``backoff`` (1 s),
  ``max_connect_failures`` (3): as for the judge. The evaluator hands the adapter windows of 64
  requests whatever ``--batch_size`` is; each window's requests run ``concurrency`` at a time.
- ``max_tokens``: overrides the task's ``max_new_tokens`` (default 512 when neither sets it);
  ``temperature``: overrides the task's (greedy, 0, by default); ``system``: a system prompt.
- ``api_key_env``: the environment variable holding the key (default ``OPENAI_API_KEY``, optional for
  that default since local servers need none). The key is sent only in the Authorization header.
- ``emits_boxes=false``: for a model that never writes boxes (its mIoU and Tag-Recall are N/A).

Each request carries the framed image as a base64 PNG data URL and the question, already rendered in
the declared box format. A request that still fails after the retries raises, so the evaluator records
that sample as failed with the reason. An endpoint that cannot be reached (``max_connect_failures``
connection failures in a row) raises `EndpointUnreachableError` instead, which fails the task at once.
"""

from __future__ import annotations

import base64
import io
import json
from typing import TYPE_CHECKING, Any, Callable, Sequence

from giqa_harness.boxes.formats import get_format
from giqa_harness.errors import ConfigError, GiqaError
from giqa_harness.hookspecs import hookimpl
from giqa_harness.llm.chat import completion_settings, non_negative, positive_int, positive_number
from giqa_harness.llm.failures import DEFAULT_MAX_CONNECT_FAILURES
from giqa_harness.llm.http_chat import ChatClient, ChatResult, read_api_key
from giqa_harness.llm.openai_compat import DEFAULT_BASE_URL, DEFAULT_KEY_ENV
from giqa_harness.models import ChoiceRequest, ModelAdapter, Request, bool_arg

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_MAX_TOKENS = 512


class RequestFailed(GiqaError):
    """A request still failed after the client's retries (the message holds the server's reason)."""


def png_data_url(image: "Image.Image") -> str:
    """The image as a ``data:image/png;base64,...`` URL (lossless, so no JPEG artefacts are added to an
    image whose quality is being judged)."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class OpenAIChatAdapter(ModelAdapter):
    name = "openai"
    description = "any OpenAI-compatible chat endpoint (OpenAI, vLLM, SGLang, ...); box_format= is required"
    default_box_format = ""
    # Requests of one window run ``concurrency`` at a time; a window far larger than any concurrency
    # keeps the endpoint busy (not --batch_size), while bounding the encoded images held in memory.
    request_window = 64

    def __init__(self, model: str | None = None, base_url: str = DEFAULT_BASE_URL, box_format: str | None = None,
                 frame: str | None = None, concurrency: int = 8, timeout: float = 60.0, max_retries: int = 5,
                 backoff: float = 1.0, max_tokens: int | None = None, temperature: float | None = None,
                 system: str | None = None, api_key_env: str = DEFAULT_KEY_ENV, emits_boxes: bool = True,
                 max_connect_failures: int = DEFAULT_MAX_CONNECT_FAILURES) -> None:
        if not model:
            raise ConfigError("model 'openai' needs --model_args model=NAME,base_url=URL,box_format=FORMAT")
        if not box_format:
            from giqa_harness.plugins import registry

            raise ConfigError(
                "model 'openai' needs --model_args box_format=NAME: how the served model writes boxes "
                f"(registered formats: {', '.join(registry().formats.names())}); frame= is optional"
            )
        self.model = str(model)
        self.box_format = get_format(str(box_format), frame)
        self.emits_boxes = bool_arg(emits_boxes, "emits_boxes")
        self.max_tokens = None if max_tokens is None else positive_int(max_tokens, "max_tokens", "model 'openai'")
        self.temperature = None if temperature is None else non_negative(temperature, "temperature", "model 'openai'")
        self.system = system
        self.client = ChatClient(
            str(base_url), read_api_key(api_key_env, required=api_key_env != DEFAULT_KEY_ENV),
            concurrency=positive_int(concurrency, "concurrency", "model 'openai'"),
            timeout=positive_number(timeout, "timeout", "model 'openai'"),
            max_retries=int(non_negative(max_retries, "max_retries", "model 'openai'", integer=True)),
            backoff=positive_number(backoff, "backoff", "model 'openai'"),
            max_connect_failures=positive_int(max_connect_failures, "max_connect_failures", "model 'openai'"),
        )
        # Outcomes of a batch that partly failed, kept for the evaluator's one-by-one isolation pass so
        # that no request is sent twice (keyed by the Request objects themselves, which hash by identity).
        self._outcomes: dict[Request, ChatResult] = {}

    @classmethod
    def frame_summary(cls) -> str:
        return "box_format= required; frame= (default: the format's)"

    def identity(self) -> dict[str, Any]:
        # Only what changes the answers: not concurrency, timeouts or where the key comes from.
        return {"model": self.name, "model_args": {
            "model": self.model, "base_url": self.client.base_url, "box_format": self.box_format.name,
            "frame": self.box_format.frame.describe(), "max_tokens": self.max_tokens,
            "temperature": self.temperature, "system": self.system,
        }}

    def __repr__(self) -> str:
        return f"OpenAIChatAdapter(model={self.model!r}, base_url={self.client.base_url!r})"

    def request_body(self, request: Request) -> dict[str, Any]:
        """The chat-completions body for one request: system prompt, framed image, question."""
        settings = completion_settings(request.generation_kwargs)
        settings.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
        settings.setdefault("temperature", 0.0)
        if self.max_tokens is not None:
            settings["max_tokens"] = self.max_tokens
        if self.temperature is not None:
            settings["temperature"] = self.temperature
        [image_url] = self.prepared_images([request])
        messages: list[dict[str, Any]] = [{"role": "system", "content": self.system}] if self.system else []
        messages.append({"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": image_url}},
            {"type": "text", "text": request.question},
        ]})
        return {"model": self.model, "messages": messages, **settings}

    def prepare_image(self, image: "Image.Image") -> str:
        """The framed image as a data URL (PNG encoding is the costly part; it runs ahead in a worker)."""
        return png_data_url(self.box_format.frame.prepare_image(image))

    def render_prompts(self, requests: Sequence[Request]) -> list[str | None]:
        """The messages sent, as JSON, each image shown by its size instead of its data URL."""
        return [json.dumps(self.shown_messages(r), ensure_ascii=False, indent=1) for r in requests]

    def shown_messages(self, request: Request) -> list[dict[str, Any]]:
        width, height = self.box_format.frame.prepare_image(request.image).size
        messages = self.request_body(request)["messages"]
        for message in messages:
            for part in message["content"] if isinstance(message["content"], list) else ():
                if part.get("type") == "image_url":
                    part["image_url"] = {"url": f"<image {width}x{height} png>"}
        return messages

    def generate(self, requests: Sequence[Request]) -> list[str]:
        return self.generate_each(requests, lambda index, answer: None)

    def generate_each(self, requests: Sequence[Request], done: Callable[[int, str], None]) -> list[str]:
        """`generate`, reporting each reply to ``done`` as its HTTP request completes."""
        outcomes: list[ChatResult | None] = [self._outcomes.pop(r, None) for r in requests]
        if len(requests) > 1:
            self._outcomes.clear()  # a new batch: nothing left over from an earlier one is wanted
        todo = [i for i, outcome in enumerate(outcomes) if outcome is None]

        def arrived(position: int, result: ChatResult) -> None:
            if result.text is not None:
                done(todo[position], result.text)

        for i, result in zip(todo, self.client.post_many([self.request_body(requests[i]) for i in todo], arrived)):
            outcomes[i] = result
        failed = [i for i, outcome in enumerate(outcomes) if outcome is None or outcome.text is None]
        if failed:
            if len(requests) > 1:
                self._outcomes = {r: o for r, o in zip(requests, outcomes) if o is not None}
            first = outcomes[failed[0]]
            raise RequestFailed(f"{len(failed)} of {len(requests)} requests failed; doc {requests[failed[0]].doc_id}: "
                                f"{first.error if first else 'no reply'} (after {first.attempts if first else 0} attempts)")
        return [outcome.text for outcome in outcomes]  # type: ignore[union-attr]

    def close(self) -> None:
        self._outcomes.clear()

    def score_choices(self, requests: Sequence[ChoiceRequest]) -> list[list[float]]:
        """Top log-probabilities of the answer's first token, after the prefix (sent as the assistant's
        message already begun; see `openai_choices`)."""
        from .openai_choices import score_with_top_logprobs

        return score_with_top_logprobs(self, requests)


@hookimpl
def register_models(register):
    register(OpenAIChatAdapter)
