"""Serve the project's OpenAI fake (`tests/fakes/openai_api.py`) as a process of its own, held
back per model call, for `make bench`'s scenarios on the OpenAI path.

    .venv/bin/python bench/fake_openai.py --latency 1.0

Prints `base_url=http://127.0.0.1:PORT/v1 api_key=...` once it serves, then runs until
SIGTERM/SIGINT. Every `/v1/responses` answer waits `--latency` seconds (a real model answers
in 0.5-1.5 s); embeddings answer at once.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.openai_api import FakeOpenAI  # noqa: E402


async def serve(latency: float) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    async with FakeOpenAI(latency_s=latency) as fake:
        print(f"base_url={fake.base_url} api_key={fake.api_key}", flush=True)
        await stopping.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per model call")
    asyncio.run(serve(parser.parse_args().latency))


if __name__ == "__main__":
    main()
