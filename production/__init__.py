"""Customer Success Digital FTE."""

import os

__version__ = "0.1.0"

# One BLAS thread per process unless the operator says otherwise, set before anything loads
# numpy. The local embedder encodes one short text at a time, where OpenBLAS's thread pool
# (one thread per core by default) only spins waiting for work: on this project's 2-core
# machine, busy with the rest of the stack, a question cost 26-36 ms of CPU with the default
# and 1.9 ms with one thread (specs/benchmarks.md), and the spinning took the cores from the
# API's intake too.
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")
