"""Image preparation ahead of generation: while the adapter answers one batch, a small pool of worker
threads opens, decodes and prepares the images of the next ones.

Each image is opened, decoded to RGB and handed to the adapter's `ModelAdapter.prepare_image` (its
framing, padding and resizing: the part of its image work that depends on the image alone). Decoding
and resizing in Pillow release the GIL, so threads overlap them with the model's forward passes.

Memory is bounded by the prefetch depth: at most ``depth`` batches beyond the one being generated are
loaded or loading, so at most ``(depth + 1) * batch`` decoded images (plus their prepared copies) are
held at once. Depth 0 loads each batch in the calling thread just before it is generated, as a plain
loop would. Batches come out in order, and every image is prepared by the same function whatever the
depth, so answers and sample logs do not depend on it.

How many requests make one batch is `request_window`: ``--batch_size`` for adapters that batch
themselves (transformers), the adapter's own ``request_window`` for engines that schedule requests
continuously (vLLM, an HTTP endpoint), which do best when handed many requests at once.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence, TypeVar

DEFAULT_DEPTH = 2  # batches loaded ahead of the one being generated
MAX_WORKERS = 4  # decoding threads; more rarely helps, since the model competes for the same cores

T = TypeVar("T")


@dataclass(frozen=True)
class LoadedImage:
    """One doc's image as the adapter will receive it, or why it could not be opened.

    ``prepared`` is the adapter's `prepare_image` result; None when the adapter prepares nothing
    ahead, or when preparing raised (the adapter then prepares the image itself inside ``generate``,
    where an error is handled exactly as without prefetching)."""

    image: Any = None
    prepared: Any = None
    error: BaseException | None = None


def load_image(path: str) -> Any:
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB")


def image_loader(prepare: Callable[[Any], Any]) -> Callable[[str], LoadedImage]:
    """A function path -> `LoadedImage` that decodes the image and applies ``prepare`` to it."""

    def load(path: str) -> LoadedImage:
        try:
            image = load_image(path)
        except Exception as exc:  # missing or unreadable: the evaluator records the reason for this doc
            return LoadedImage(error=exc)
        try:
            prepared = prepare(image)
        except Exception:
            prepared = None
        return LoadedImage(image=image, prepared=prepared)

    return load


def request_window(adapter: Any, batch_size: int) -> int:
    """How many requests one ``generate`` call receives: the adapter's ``request_window`` when it
    declares one (engines with their own continuous batching), else ``--batch_size``."""
    return adapter.request_window or batch_size


def prefetched_batches(items: Sequence[T], batch_size: int, paths: Callable[[T], str],
                       load: Callable[[str], LoadedImage], depth: int = DEFAULT_DEPTH,
                       workers: int | None = None) -> Iterator[tuple[list[T], list[LoadedImage]]]:
    """``(batch, loaded images)`` for consecutive batches of ``items``, in order, with up to ``depth``
    batches loading in worker threads ahead of the one the caller is working on."""
    batches = [list(items[i:i + batch_size]) for i in range(0, len(items), batch_size)]
    if depth <= 0:
        for batch in batches:
            yield batch, [load(paths(it)) for it in batch]
        return
    workers = workers or min(MAX_WORKERS, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="giqa-prefetch") as pool:
        queued: deque[list[Future[LoadedImage]]] = deque()
        following = iter(batches)

        def submit_next() -> None:
            batch = next(following, None)
            if batch is not None:
                queued.append([pool.submit(load, paths(it)) for it in batch])

        for _ in range(depth + 1):  # the batch to generate now, and ``depth`` behind it
            submit_next()
        try:
            for batch in batches:
                loaded = [future.result() for future in queued.popleft()]
                yield batch, loaded  # meanwhile the next ``depth`` batches load
                submit_next()
        finally:
            for futures in queued:  # the caller stopped early (an error): drop what is not started
                for future in futures:
                    future.cancel()
