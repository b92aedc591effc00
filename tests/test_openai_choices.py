"""Choice scoring over an OpenAI-compatible endpoint, against the loopback server: top log-probabilities
when the reply has them, a clear "no log-probs" error when it does not."""

from __future__ import annotations

import json
import math

import pytest
from PIL import Image

from giqa_harness.evaluator import build_adapter
from giqa_harness.models import ChoiceRequest, ChoiceScoringUnsupported, Request
from giqa_harness.testing.chat_server import ChatServer, Reply

TOP = [{"token": " good", "logprob": math.log(0.5)}, {"token": "good", "logprob": math.log(0.1)},
       {"token": " fair", "logprob": math.log(0.3)}, {"token": "Poor", "logprob": math.log(0.05)}]


def with_logprobs(request):
    payload = json.loads(Reply.chat(" good").body)
    payload["choices"][0]["logprobs"] = {"content": [{"token": " good", "logprob": TOP[0]["logprob"],
                                                      "top_logprobs": TOP}]}
    return Reply(200, json.dumps(payload))


def _choice(prefix=" The quality of the image is"):
    image = Image.new("RGB", (12, 8), (90, 90, 90))
    request = Request(doc_id="a", task="t", question="How would you rate the quality of this image?", image=image,
                      image_size=image.size)
    return ChoiceRequest(request, prefix, (" excellent", " good", " fair", " poor", " bad"))


def _adapter(server):
    return build_adapter("openai", {"model": "vlm", "base_url": server.base_url, "box_format": "giqa_grid",
                                    "backoff": 0.01, "max_retries": 0})


def test_top_logprobs_of_the_first_token_score_the_candidates():
    with ChatServer(with_logprobs) as server:
        (scores,) = _adapter(server).score_choices([_choice()])
        body = server.requests[-1].body
    assert scores[0] == -math.inf and scores[4] == -math.inf  # not among the top tokens: probability 0
    assert scores[1] == pytest.approx(math.log(0.6))  # " good" and "good" are the same word
    assert scores[2] == pytest.approx(math.log(0.3)) and scores[3] == pytest.approx(math.log(0.05))
    assert body["logprobs"] is True and body["top_logprobs"] == 20 and body["max_tokens"] == 1
    assert body["messages"][-1] == {"role": "assistant", "content": "The quality of the image is"}
    assert body["continue_final_message"] is True


def test_an_endpoint_without_logprobs_says_so():
    with ChatServer(lambda request: Reply.chat("good")) as server:
        with pytest.raises(ChoiceScoringUnsupported, match="this endpoint gives no log-probs"):
            _adapter(server).score_choices([_choice()])
