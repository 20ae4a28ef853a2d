"""Where the worker's CPU goes with the local model: py-spy on `fte worker` under load.

Starts `fte up` on a scratch data directory, offers forms at `--rate` per second for
`--seconds`, and samples the worker process with py-spy meanwhile (native frames off, 100 Hz).
Writes a flame graph (SVG) and prints the functions with the most samples, by own time and by
total time, plus the CPU seconds per message the worker spent.

    .venv/bin/python bench/profile_worker.py [--rate 20] [--seconds 30] [--svg FILE.svg]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import ProcessSampler, fte_up, outcomes, submit

ROOT = Path(__file__).resolve().parent.parent
PY_SPY = Path(sys.executable).parent / "py-spy"


async def profile(rate: float, seconds: float, svg: Path, raw: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="fte-profile-") as tmp:
        os.chmod(tmp, 0o755)
        port = int(os.environ.get("BENCH_PORT", "18090"))
        async with fte_up(Path(tmp) / "data", port) as stack:
            await submit(stack, "warm", count=50, rate=25)  # load what loads lazily
            await outcomes(stack, "warm", expected=50, wait_s=60)
            worker = stack.worker()
            common = ["--pid", str(worker.pid), "--rate", "100", "--duration", str(int(seconds))]
            spies = [await asyncio.create_subprocess_exec(
                str(PY_SPY), "record", *common, "--format", fmt, "--output", str(out),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
                for fmt, out in (("flamegraph", svg), ("raw", raw))]
            count = int(rate * seconds)
            async with ProcessSampler(worker) as sampled:
                await submit(stack, "profiled", count=count, rate=rate)
                rows = await outcomes(stack, "profiled", expected=count, wait_s=120)
            for spy in spies:
                await spy.wait()
    replied = sum(1 for r in rows if r["replies"])
    cpu_s = sampled.cpu_share * seconds
    print(f"{replied}/{count} replied at {rate}/s; worker CPU {sampled.cpu_share:.2f} of a core "
          f"= {1000 * cpu_s / max(replied, 1):.1f} ms CPU per message; peak RSS "
          f"{sampled.peak_rss_mb:.0f} MB")
    report(raw)


def report(raw: Path, top: int = 25) -> None:
    """Print the functions with the most samples (py-spy's raw format: stack;stack count)."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        weight = int(n)
        samples += weight
        own[_short(frames[-1])] += weight
        for frame in {_short(f) for f in frames}:
            total[frame] += weight
    print(f"\n{samples} samples; by own time:")
    for frame, n in own.most_common(top):
        print(f"  {100 * n / samples:5.1f}%  {frame}")
    print("\nby total time (the frame or anything it called):")
    for frame, n in total.most_common(top):
        print(f"  {100 * n / samples:5.1f}%  {frame}")


def _short(frame: str) -> str:
    """`func (path/to/module.py:12)` → `func (module.py)`: samples of one function together."""
    name, _, where = frame.partition(" (")
    return f"{name} ({Path(where.split(':')[0]).name})" if where else name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--svg", type=Path, default=ROOT / "specs" / "worker-flame.svg")
    parser.add_argument("--raw", type=Path, default=Path(tempfile.gettempdir()) /
                        "fte-worker-profile.txt")
    args = parser.parse_args()
    asyncio.run(profile(args.rate, args.seconds, args.svg, args.raw))


if __name__ == "__main__":
    main()
