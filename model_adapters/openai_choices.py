"""Choice scoring over an OpenAI-compatible chat endpoint (not a plugin itself).

Chat completions return log-probabilities only for the tokens they generate, so a candidate is scored
by the log-probability of its *first* token among the ``top_logprobs`` (at most 20) of the answer's
first generated token: enough for level words and option letters, which are one token each for the
usual tokenizers. The answer prefix goes in as the assistant's message already begun (vLLM's server
continues it with ``continue_final_message``, sent to every endpoint but api.openai.com, which rejects
fields it does not know). Tokens are matched
case-insensitively without surrounding spaces, and every matching token's probability is added (" good"
and "good"). A candidate absent from the top list gets probability 0 (log -inf); a request where no
candidate appears fails with that reason. A reply without log-probabilities means the endpoint gives
none: `ChoiceScoringUnsupported`, which stops the task with that message.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, Sequence

from giqa_harness.errors import GiqaError
from giqa_harness.llm.http_chat import ChatClient, message_text
from giqa_harness.llm.openai_compat import DEFAULT_BASE_URL
from giqa_harness.models import ChoiceRequest, ChoiceScoringUnsupported

if TYPE_CHECKING:
    from .openai_api import OpenAIChatAdapter

TOP_LOGPROBS = 20  # the most the OpenAI API returns


class RawReplyClient(ChatClient):
    """The same client, handing back the whole reply JSON (its log-probabilities) instead of the text."""

    @staticmethod
    def _parse(payload: str) -> str | None:
        try:
            return payload if message_text(json.loads(payload)) is not None else None
        except ValueError:
            return None


def _raw_client(adapter: "OpenAIChatAdapter") -> RawReplyClient:
    client = getattr(adapter, "_raw_client", None)
    if client is None:
        client = RawReplyClient.__new__(RawReplyClient)
        client.__dict__.update(adapter.client.__dict__)  # same URL, key, limits and slots
        adapter._raw_client = client  # type: ignore[attr-defined]
    return client


def choice_body(adapter: "OpenAIChatAdapter", choice: ChoiceRequest) -> dict[str, Any]:
    body = adapter.request_body(choice.request)
    if choice.prefix.strip():
        body["messages"].append({"role": "assistant", "content": choice.prefix.strip()})
        if adapter.client.base_url != DEFAULT_BASE_URL:  # api.openai.com rejects fields it does not know
            body.update(continue_final_message=True, add_generation_prompt=False)
    body.update(max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=TOP_LOGPROBS)
    return body


def candidate_logprobs(reply: dict[str, Any], candidates: Sequence[str], where: str) -> list[float]:
    """The candidates' first-token log-probabilities from one reply (see the module docstring)."""
    try:
        content = reply["choices"][0]["logprobs"]["content"]
        top = content[0]["top_logprobs"]
    except (KeyError, IndexError, TypeError):
        raise ChoiceScoringUnsupported(
            f"this endpoint gives no log-probs (its reply to {where} has no choices[0].logprobs.content"
            "[0].top_logprobs); score this task by generation (scoring.method: generate)") from None
    out = []
    for candidate in candidates:
        wanted = candidate.strip().lower()
        matches = [float(t["logprob"]) for t in top if str(t.get("token", "")).strip().lower() == wanted]
        out.append(math.log(sum(math.exp(v) for v in matches)) if matches else -math.inf)
    if all(v == -math.inf for v in out):
        raise GiqaError(f"{where}: none of the candidates is among the top {len(top)} first tokens")
    return out


def score_with_top_logprobs(adapter: "OpenAIChatAdapter", choices: Sequence[ChoiceRequest]) -> list[list[float]]:
    results = _raw_client(adapter).post_many([choice_body(adapter, c) for c in choices])
    out = []
    for choice, result in zip(choices, results):
        where = f"doc {choice.request.doc_id}"
        if result.text is None:
            raise GiqaError(f"{where}: {result.error} (after {result.attempts} attempts)")
        out.append(candidate_logprobs(json.loads(result.text), choice.candidates, where))
    return out
