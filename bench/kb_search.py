"""Knowledge-base search at 10k chunks: latency of the hybrid search and recall@5 of the index.

Builds a corpus of 10,000 distinct passages from the product docs and sample tickets
(sentences recombined per topic), embeds them with the configured local model, loads them into
a fresh embedded PostgreSQL, and then, for 300 customer questions:
  - times the production hybrid search (`reference.search_knowledge`, SQL round trip) and the
    query embedding separately, p50/p95/p99;
  - compares the HNSW top-5 with the exact top-5 (sequential scan, index disabled): recall@5 of
    the vector half, and of the fused hybrid result.
Run by `make bench` (via bench/run.py); BENCH_QUICK=1 uses 2,000 chunks.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy  # noqa: E402
from loadgen import latency_summary  # noqa: E402
from scratch_db import scratch_pool  # noqa: E402

from production.database.queries import reference  # noqa: E402
from production.embeddings import local_embedder  # noqa: E402
from production.services.knowledge import chunk_markdown  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
CHUNKS = 2_000 if QUICK else 10_000
QUERIES = 100 if QUICK else 300
TENANT = "techcorp"


def corpus(n: int, rng: random.Random) -> list[tuple[str, str]]:
    """Return n distinct (title, passage) pairs: each topic's sentences recombined."""
    sections = chunk_markdown((ROOT / "context" / "product-docs.md").read_text(encoding="utf-8"))
    pool = [s for sec in sections for s in re.split(r"(?<=[.!?])\s+", sec.content) if s]
    out: list[tuple[str, str]] = [(s.title, s.content) for s in sections]
    seen = {text for _, text in out}
    while len(out) < n:
        section = rng.choice(sections)
        own = re.split(r"(?<=[.!?])\s+", section.content)
        picked = rng.sample(own, k=min(len(own), rng.randint(1, 3))) + rng.sample(pool, k=1)
        text = " ".join(picked)
        if text not in seen:
            seen.add(text)
            out.append((f"{section.title} #{len(out)}", text))
    return out


def questions(n: int, rng: random.Random) -> list[str]:
    data = json.loads((ROOT / "context" / "sample-tickets.json").read_text(encoding="utf-8"))
    texts = [t["message"][:600] for t in data["tickets"]]
    return [rng.choice(texts) if i >= len(texts) else texts[i] for i in range(n)]


async def run() -> dict[str, Any]:
    rng = random.Random(42)
    embedder = local_embedder()
    passages = corpus(CHUNKS, rng)
    started = time.perf_counter()
    vectors, cached = await _corpus_vectors(embedder, passages)
    embed_s = None if cached else time.perf_counter() - started

    async with scratch_pool("fte-kbbench-") as pool:
        return await _measure(pool, embedder, passages, vectors, rng, embed_s)


async def _corpus_vectors(embedder: Any, passages: list[tuple[str, str]]
                          ) -> tuple[list[list[float]], bool]:
    """Embed the corpus, or read the vectors a previous run of the same corpus and model saved.

    Embedding 10k passages takes minutes on two cores; the cache (`.fte/bench/`, git-ignored)
    is keyed by a hash of the model name and every passage, so a changed corpus re-embeds.
    """
    texts = [f"{t}. {c}" for t, c in passages]
    key = hashlib.sha256("\n".join([embedder.name, *texts]).encode()).hexdigest()[:16]
    cache = ROOT / ".fte" / "bench" / f"kb-vectors-{key}.npy"
    if cache.exists():
        return numpy.load(cache).tolist(), True
    vectors: list[list[float]] = []
    for i in range(0, len(texts), 256):
        vectors += await embedder.embed(texts[i:i + 256])
    cache.parent.mkdir(parents=True, exist_ok=True)
    numpy.save(cache, numpy.asarray(vectors, dtype=numpy.float32))
    return vectors, False


async def _measure(pool: Any, embedder: Any, passages: list[tuple[str, str]],
                   vectors: list[list[float]], rng: random.Random,
                   embed_s: float | None) -> dict[str, Any]:
    async with pool.acquire() as conn:
        started = time.perf_counter()
        await conn.execute("DROP INDEX knowledge_base_embedding_hnsw")
        await conn.executemany(
            "INSERT INTO knowledge_base (tenant_id, title, content, source, embedding, "
            "embedding_model) VALUES ($1, $2, $3, 'bench', $4, $5)",
            [(TENANT, t, c, reference.as_vector(v), embedder.name)
             for (t, c), v in zip(passages, vectors, strict=True)])
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute("CREATE INDEX knowledge_base_embedding_hnsw ON knowledge_base "
                           "USING hnsw (embedding vector_cosine_ops)")
        await reference.refresh_lexemes(conn, TENANT)
        # The steady state autovacuum reaches within a minute of a bulk load: visibility map
        # set and statistics current (a scan of a freshly loaded table also checks every row's
        # visibility, which tripled the search time in this benchmark).
        await conn.execute("VACUUM ANALYZE knowledge_base")
        await conn.execute("ANALYZE knowledge_lexemes")
        index_s = time.perf_counter() - started

    texts = questions(QUERIES, rng)
    embed_ms: list[float] = []
    query_vectors: list[list[float]] = []
    for text in texts:
        t0 = time.perf_counter()
        [vec] = await embedder.embed([text])
        embed_ms.append((time.perf_counter() - t0) * 1000)
        query_vectors.append(vec)

    search_ms: list[float] = []
    vector_recall: list[float] = []
    hybrid_recall: list[float] = []
    # Exact search runs on a connection of its own: with index scans switched off on the timed
    # connection, PostgreSQL would cache a sequential-scan plan for the same statement and the
    # timed search would then use it too.
    async with pool.acquire() as conn, pool.acquire() as exact_conn:
        await exact_conn.execute("SET enable_indexscan = off")
        for _ in range(20):  # warm the caches and the plan
            await reference.search_knowledge(conn, TENANT, texts[0], query_vectors[0],
                                             model=embedder.name)
        for text, vec in zip(texts, query_vectors, strict=True):
            t0 = time.perf_counter()
            hybrid = await reference.search_knowledge(conn, TENANT, text, vec,
                                                      model=embedder.name)
            search_ms.append((time.perf_counter() - t0) * 1000)
            ann = await reference.nearest_knowledge(conn, TENANT, vec, model=embedder.name)
            exact = await reference.nearest_knowledge(exact_conn, TENANT, vec,
                                                      model=embedder.name)
            exact_hybrid = await reference.search_knowledge(exact_conn, TENANT, text, vec,
                                                            model=embedder.name)
            vector_recall.append(_overlap(ann, exact))
            hybrid_recall.append(_overlap(hybrid, exact_hybrid))
        plan = await conn.fetch(
            "EXPLAIN (FORMAT TEXT) SELECT id FROM knowledge_base WHERE tenant_id = $1 "
            "AND embedding_model = $3 ORDER BY embedding <=> $2 LIMIT 20",
            TENANT, reference.as_vector(query_vectors[0]), embedder.name)
    return {
        "chunks": len(passages),
        "queries": len(texts),
        "embedding_model": embedder.name,
        # None when the vectors came from the cache of an earlier run
        "corpus_embed_s": None if embed_s is None else round(embed_s, 1),
        "corpus_embed_per_s": None if embed_s is None else round(len(passages) / embed_s, 1),
        "load_s": round(load_s, 2),
        "hnsw_build_s": round(index_s, 2),
        "uses_hnsw": any("knowledge_base_embedding_hnsw" in row[0] for row in plan),
        "search_ms": latency_summary(search_ms),
        "query_embed_ms": latency_summary(embed_ms),
        "recall_at_5_vector": round(sum(vector_recall) / len(vector_recall), 4),
        "recall_at_5_hybrid": round(sum(hybrid_recall) / len(hybrid_recall), 4),
    }


def _overlap(found: list[Any], exact: list[Any]) -> float:
    want = {r.id for r in exact[:5]}
    return len(want & {r.id for r in found[:5]}) / len(want) if want else 1.0


def print_report(result: dict[str, Any]) -> None:
    print(f"\nKnowledge-base search: {result['chunks']} chunks, {result['queries']} queries, "
          f"model {result['embedding_model']} (HNSW used: {result['uses_hnsw']})")
    embedded = ("cached by an earlier run" if result["corpus_embed_s"] is None else
                f"{result['corpus_embed_s']} s ({result['corpus_embed_per_s']}/s)")
    print(f"  corpus embedding   {embedded}; load {result['load_s']} s;"
          f" HNSW build {result['hnsw_build_s']} s")
    for name in ("search_ms", "query_embed_ms"):
        s = result[name]
        print(f"  {name:<18} p50 {s['p50']:>7.2f}  p95 {s['p95']:>7.2f}  p99 {s['p99']:>7.2f} ms")
    print(f"  recall@5 vs exact  vector {result['recall_at_5_vector']:.4f}  "
          f"hybrid {result['recall_at_5_hybrid']:.4f}   (targets: p95 ≤ 10 ms, recall ≥ 0.95)")


if __name__ == "__main__":
    outcome = asyncio.run(run())
    print_report(outcome)
    print(json.dumps(outcome))
