"""Every process of the product runs numpy's BLAS on one thread unless the operator sets it:
the embedder's thread pool otherwise spins on every core for each short question."""

from __future__ import annotations

import os
import subprocess
import sys

SHOW = ("import production, os; "
        "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])")


def _run(**env: str) -> str:
    base = {k: v for k, v in os.environ.items()
            if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    return subprocess.run([sys.executable, "-c", SHOW], env={**base, **env}, check=True,
                          capture_output=True, text=True).stdout.split()


def test_one_blas_thread_by_default() -> None:
    assert _run() == ["1", "1"]


def test_the_operators_setting_wins() -> None:
    assert _run(OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="4") == ["2", "4"]
