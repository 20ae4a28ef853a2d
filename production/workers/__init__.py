"""The long-running processes' entrypoints (`fte worker`, `dispatcher`, `relay`, `scheduler`):
each builds its process with `production.bootstrap` and serves it (`runtime.py`)."""
