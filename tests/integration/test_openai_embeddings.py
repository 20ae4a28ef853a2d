"""OpenAIEmbedder over real HTTP: the real `openai` client against the local fake of
`POST /v1/embeddings`, which checks the bearer key and answers in the API's own shape."""

from __future__ import annotations

import numpy as np
import openai
import pytest
from pydantic import SecretStr

from production.config import OpenAISettings, Settings
from production.embeddings import (
    DIMENSIONS,
    OPENAI_BATCH,
    OpenAIEmbedder,
    embedder_for,
)
from tests.fakes.openai_api import EMBEDDINGS, FakeOpenAI, embedding

MODEL = "text-embedding-3-small"


def embedder(fake: FakeOpenAI, *, key: str | None = None) -> OpenAIEmbedder:
    return OpenAIEmbedder(api_key=key or fake.api_key, model=MODEL, base_url=fake.base_url)


async def test_request_carries_model_and_512_dimensions(fake_openai: FakeOpenAI) -> None:
    texts = ["How do I reset my password?", "Webhooks are retried for 24 hours."]
    vectors = await embedder(fake_openai).embed(texts)

    [body] = fake_openai.bodies(EMBEDDINGS)
    assert (body["model"], body["dimensions"], body["input"]) == (MODEL, DIMENSIONS, texts)
    assert len(vectors) == 2
    for text, vector in zip(texts, vectors, strict=True):
        assert len(vector) == DIMENSIONS
        np.testing.assert_allclose(vector, embedding(text), atol=1e-6)  # in order, decoded


async def test_large_inputs_go_in_requests_of_at_most_256(fake_openai: FakeOpenAI) -> None:
    texts = [f"customer question number {i}" for i in range(2 * OPENAI_BATCH + 88)]
    vectors = await embedder(fake_openai).embed(texts)

    sent = [body["input"] for body in fake_openai.bodies(EMBEDDINGS)]
    assert [len(batch) for batch in sent] == [OPENAI_BATCH, OPENAI_BATCH, 88]
    assert [t for batch in sent for t in batch] == texts
    np.testing.assert_allclose(vectors[-1], embedding(texts[-1]), atol=1e-6)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


async def test_nothing_to_embed_sends_nothing(fake_openai: FakeOpenAI) -> None:
    assert await embedder(fake_openai).embed([]) == []
    assert fake_openai.recorded == []


async def test_a_refused_key_raises(fake_openai: FakeOpenAI) -> None:
    with pytest.raises(openai.AuthenticationError):
        await embedder(fake_openai, key="sk-wrong-key").embed(["hello"])
    assert [r.status for r in fake_openai.recorded] == [401]


async def test_settings_choose_the_openai_model(fake_openai: FakeOpenAI) -> None:
    group = OpenAISettings(api_key=SecretStr(fake_openai.api_key), base_url=fake_openai.base_url,
                           embedding_model="text-embedding-3-large")
    chosen = embedder_for(Settings(openai=group))
    [vector] = await chosen.embed(["Is there an app for my iPhone?"])

    assert chosen.name == "openai:text-embedding-3-large"
    [body] = fake_openai.bodies(EMBEDDINGS)
    assert (body["model"], body["dimensions"]) == ("text-embedding-3-large", DIMENSIONS)
    assert len(vector) == DIMENSIONS
