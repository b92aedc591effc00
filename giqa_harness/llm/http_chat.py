"""A small client for OpenAI-compatible ``/chat/completions`` endpoints (OpenAI, vLLM, SGLang,
LMDeploy, ...), on the standard library alone. Shared by the ``openai:`` judge backend, the ``openai``
model adapter and annotate's ``--llm openai:...``.

- bounded concurrency: at most ``concurrency`` requests in flight per client, across threads;
- ``timeout`` bounds the whole request (connecting, sending, and every byte of the reply), so a server
  that trickles its reply cannot stall a run;
- retries with exponential back-off and jitter on 429, 5xx, timeouts and connection errors, waiting
  at least what a ``Retry-After`` header asks; logged as one line per kind of failure with a count
  when a batch ends, not a line per attempt;
- ``max_connect_failures`` connection failures in a row (default 3) stop the client: every request
  then raises `EndpointUnreachableError` ("cannot reach URL: connection refused");
- a reply that is not JSON or has no message text is retried, then reported as failed;
- 401/403/404 raise at once (a wrong key or URL fails every request alike).

The API key lives in a `Secret`, whose repr is ``***``; it goes into the Authorization header and
nowhere else. Every key of this process is scrubbed from replies and error texts before anyone sees
them (so before they are cached, logged or written).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import os
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..errors import ConfigError, GiqaError
from .deadline import RequestTimeout, deadline_opener, send_within
from .failures import DEFAULT_MAX_CONNECT_FAILURES, ConnectBreaker, RetryTally, connect_failure_cause
from .secrets import Secret, scrub

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))
FATAL_STATUSES = {401: "the API key was rejected", 403: "access is forbidden for this key",
                  404: "no such endpoint or model"}
MAX_RETRY_AFTER_S = 600.0  # a server asking for more than this is treated as asking for this
ERROR_SNIPPET_CHARS = 300


class EndpointError(GiqaError):
    """The endpoint refuses every request alike (bad key, wrong URL or model name)."""


def read_api_key(env_name: str, required: bool) -> Secret | None:
    """The key from environment variable ``env_name``; a `ConfigError` naming the variable (never a
    value) when ``required`` and unset. Local servers usually need no key, hence optional by default."""
    if not isinstance(env_name, str) or not env_name:
        raise ConfigError("api_key_env must name an environment variable, e.g. api_key_env=OPENAI_API_KEY")
    value = os.environ.get(env_name, "")
    if not value:
        if required:
            raise ConfigError(f"the API key variable {env_name} is not set; export {env_name}=... before the run")
        return None
    return Secret(value)


@dataclass(frozen=True)
class ChatResult:
    """One request's outcome: the reply text, or why there is none."""

    text: str | None
    error: str | None = None
    attempts: int = 1


def check_base_url(base_url: str) -> str:
    """``http(s)://host[:port]/path`` without credentials or a trailing slash."""
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"base URL {base_url!r} must start with http:// or https://, e.g. http://localhost:8000/v1")
    if parsed.username or parsed.password:
        # Never echo it: the user just typed a credential into it.
        raise ConfigError("the base URL must not hold credentials; put the key in an environment variable "
                          "and name it with api_key_env=NAME")
    return base_url.rstrip("/")


def message_text(reply: Any) -> str | None:
    """``choices[0].message.content`` of a chat-completions reply, or None when it is missing.
    Content given as a list of parts (some servers do) is joined."""
    try:
        content = reply["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else None


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) as seconds from now."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class ChatClient:
    """Posts chat-completions bodies to ``{base_url}/chat/completions``."""

    def __init__(self, base_url: str, api_key: Secret | None = None, concurrency: int = 8, timeout: float = 60.0,
                 max_retries: int = 5, backoff: float = 1.0, max_backoff: float = 60.0,
                 max_connect_failures: int = DEFAULT_MAX_CONNECT_FAILURES) -> None:
        self.base_url = check_base_url(base_url)
        self.url = f"{self.base_url}/chat/completions"
        self._api_key = api_key
        self.concurrency, self.timeout, self.max_retries = concurrency, timeout, max_retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self._slots = threading.BoundedSemaphore(concurrency)
        self._rng = random.Random()
        self._breaker = ConnectBreaker(self.base_url, max_connect_failures)
        self._opener = deadline_opener()  # shared by every request and thread of this client

    def __repr__(self) -> str:
        return f"ChatClient({self.url!r}, concurrency={self.concurrency}, timeout={self.timeout})"

    def post_many(self, bodies: Sequence[dict[str, Any]],
                  on_result: Callable[[int, ChatResult], None] | None = None) -> list[ChatResult]:
        """One result per body, same order; requests run concurrently up to ``concurrency``. Raises
        `EndpointUnreachableError` once the endpoint failed to connect ``max_connect_failures`` times in a row.

        ``on_result(index, result)``, when given, is called for each body as soon as its request is
        done (in completion order), in the calling thread, so it needs no locking of its own."""
        tally = RetryTally()
        if len(bodies) <= 1:
            results = []
            for index, body in enumerate(bodies):
                results.append(self._post(body, tally))
                if on_result is not None:
                    on_result(index, results[-1])
        else:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(bodies)),
                                    thread_name_prefix="giqa-chat") as pool:
                if on_result is None:
                    results = list(pool.map(lambda body: self._post(body, tally), bodies))
                else:
                    results = self._collect(pool, bodies, tally, on_result)
        tally.log(log, self.url, self.max_retries + 1)
        return results

    def _collect(self, pool: ThreadPoolExecutor, bodies: Sequence[dict[str, Any]], tally: RetryTally,
                 on_result: Callable[[int, ChatResult], None]) -> list[ChatResult]:
        """`post_many`'s results, handing each to ``on_result`` as it completes."""
        futures = {pool.submit(self._post, body, tally): index for index, body in enumerate(bodies)}
        results: list[ChatResult | None] = [None] * len(bodies)
        try:
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()  # raises what the request raised, as pool.map would
                on_result(index, results[index])  # type: ignore[arg-type]
        except BaseException:
            for future in futures:  # stop what has not started; the pool waits for the rest
                future.cancel()
            raise
        return results  # type: ignore[return-value]

    def post(self, body: dict[str, Any]) -> ChatResult:
        """One request, retried as the module docstring says."""
        return self.post_many([body])[0]

    def _post(self, body: dict[str, Any], tally: RetryTally) -> ChatResult:
        data = json.dumps(body).encode("utf-8")
        attempt = 0
        while True:
            self._breaker.check()
            final = attempt == self.max_retries
            wait: float | None = None
            try:
                status, payload, retry_after = self._send(data)
            except urllib.error.URLError as exc:  # no connection (refused, unresolvable, connect timeout)
                cause = scrub(connect_failure_cause(exc, self.timeout))
                self._breaker.failed(cause)  # raises once the endpoint looks dead
                kind, error = cause, cause
            except RequestTimeout as exc:
                kind, error = "timeout", str(exc)
            except (http.client.HTTPException, OSError) as exc:  # reset or cut off after connecting
                kind, error = "a broken connection", f"{type(exc).__name__}: {scrub(str(exc))}".rstrip(": ")
            else:
                self._breaker.reached()
                if status == 200:
                    text = self._parse(payload)
                    if text is not None:
                        return ChatResult(scrub(text), attempts=attempt + 1)
                    kind = "a reply that is not a chat completion"
                    error = f"reply is not a chat completion: {scrub(payload)[:ERROR_SNIPPET_CHARS]!r}"
                elif status in FATAL_STATUSES:
                    raise EndpointError(f"HTTP {status} from {self.url}: {FATAL_STATUSES[status]} "
                                        "(check the base URL, the model name and the API key variable)")
                else:
                    kind, error = f"HTTP {status}", f"HTTP {status}: {scrub(payload)[:ERROR_SNIPPET_CHARS]}"
                    final = final or status not in RETRY_STATUSES
                    wait = retry_after
            tally.failed(kind, error, final)
            if final:
                return ChatResult(None, error, attempt + 1)
            time.sleep(self._delay(attempt, wait))
            attempt += 1

    def _send(self, data: bytes) -> tuple[int, str, float | None]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.reveal()}"
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        with self._slots:
            status, body, reply_headers = send_within(request, self.timeout, self._opener)
        retry_after = retry_after_seconds(reply_headers.get("Retry-After") if reply_headers else None)
        return status, body.decode("utf-8", "replace"), retry_after

    @staticmethod
    def _parse(payload: str) -> str | None:
        try:
            return message_text(json.loads(payload))
        except ValueError:
            return None

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential back-off with jitter (half to all of the step), never shorter than Retry-After."""
        step = min(self.max_backoff, self.backoff * 2**attempt)
        delay = self._rng.uniform(step / 2, step)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
        return delay
