"""The HTTP chat client's own cost: interpreter time per request and requests/s against a loopback server.

    python benchmarks/bench_chat_client.py [--requests 2000] [--concurrency 1,32] [--repeats 3]

The client (`giqa_harness.llm.http_chat.ChatClient`, used by the ``openai:`` judge backend, the
``openai`` model adapter and annotate's ``--llm openai:...``) posts ``--requests`` chat-completions
bodies through ``post_many`` to a server that answers at once, in a process of its own. Printed: the
client process's CPU time per request (user + system, all its threads) and requests/s, medians of
``--repeats`` runs. CPU time per request is what a pipeline that also computes in the same process (the
annotate detector, an evaluator) loses to the client: the threads take it from the interpreter lock.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time


def serve(urls: "multiprocessing.Queue[str]", stop: "multiprocessing.Event") -> None:
    from giqa_harness.testing.chat_server import ChatServer, Reply

    reply = Reply.chat('{"score": 3}')
    with ChatServer(lambda request: reply) as server:
        urls.put(server.base_url)
        stop.wait()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_once(base_url: str, requests: int, concurrency: int) -> tuple[float, float]:
    """(client CPU µs per request, requests/s) of one ``post_many`` over ``requests`` bodies."""
    from giqa_harness.llm.http_chat import ChatClient

    client = ChatClient(base_url, concurrency=concurrency, timeout=30.0, max_retries=0)
    bodies = [{"model": "bench", "messages": [{"role": "user", "content": f"request {i}"}]} for i in range(requests)]
    cpu, wall = cpu_seconds(), time.perf_counter()
    results = client.post_many(bodies)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    failed = sum(1 for r in results if r.text is None)
    if failed:
        print(f"  {failed} requests failed", file=sys.stderr)
    return 1e6 * cpu / requests, requests / wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,32", help="the client's concurrency, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    context = multiprocessing.get_context("spawn")
    urls, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(urls, stop), daemon=True)
    server.start()
    try:
        base_url = urls.get(timeout=60)
        run_once(base_url, 50, 4)  # warm-up: imports, the first connections
        print(f"chat client, {args.requests} requests to a loopback server in its own process answering at once, "
              f"median of {args.repeats}")
        print(f"{'concurrency':>11}  {'client CPU µs/request':>21}  {'requests/s':>10}")
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            runs = [run_once(base_url, args.requests, concurrency) for _ in range(args.repeats)]
            cpu = statistics.median(r[0] for r in runs)
            rate = statistics.median(r[1] for r in runs)
            print(f"{concurrency:>11}  {cpu:>21.0f}  {rate:>10.0f}")
    finally:
        stop.set()
        server.join(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
