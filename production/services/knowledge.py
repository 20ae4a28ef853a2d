"""Loading the knowledge base from Markdown: one section per heading."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from production.database.pool import Pool
from production.database.queries import reference
from production.embeddings import Embedder

_HEADING = re.compile(r"^(#{2,3})\s+(.+?)\s*$", re.M)


@dataclass(frozen=True)
class Section:
    title: str
    content: str
    category: str | None


def chunk_markdown(text: str) -> list[Section]:
    """Return one section per `##` / `###` heading, with the enclosing `##` as its category."""
    sections: list[Section] = []
    matches = list(_HEADING.finditer(text))
    category: str | None = None
    for i, match in enumerate(matches):
        level, title = match.group(1), match.group(2)
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[match.end():end].strip()
        if level == "##":
            category = title
        if body:
            sections.append(Section(title=title, content=body,
                                    category=category if level == "###" else title))
    return sections


# Sections longer than this are split at paragraph boundaries (the embedding model reads
# about 256 word pieces; a longer passage would be judged by its beginning only).
MAX_CHUNK_WORDS = 180
# The files `fte up` and `fte ask` load when the knowledge base is empty (the company profile
# holds internal targets, so it is context for people, not an answer source).
DEFAULT_FILES = ("product-docs.md",)


def split_long(section: Section, max_words: int = MAX_CHUNK_WORDS) -> list[Section]:
    """Return the section itself, or consecutive parts of it that each fit `max_words`."""
    if len(section.content.split()) <= max_words:
        return [section]
    parts: list[str] = []
    for paragraph in re.split(r"\n\s*\n", section.content):
        if parts and len(f"{parts[-1]} {paragraph}".split()) <= max_words:
            parts[-1] = f"{parts[-1]}\n\n{paragraph}"
        else:
            parts.append(paragraph)
    return [Section(title=section.title if i == 0 else f"{section.title} (part {i + 1})",
                    content=part, category=section.category) for i, part in enumerate(parts)]


@dataclass(frozen=True)
class LoadReport:
    files: int
    sections: int  # in the loaded documents
    embedded: int  # new or changed, embedded now
    removed: int  # no longer in their document


async def load_markdown(*, pool: Pool, tenant_id: str, path: Path,
                        embedder: Embedder) -> LoadReport:
    """Upsert every section of one Markdown file, embedding only new or changed ones.

    Sections that disappeared from the file are deleted; all of it is one transaction.
    """
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    sections = [part for section in chunk_markdown(text) for part in split_long(section)]
    if len({s.title for s in sections}) != len(sections):
        raise ValueError(f"{path.name}: two sections have the same heading")
    async with pool.acquire() as conn:
        known = await reference.knowledge_hashes(conn, tenant_id, path.name)
    hashes = [_hash(s) for s in sections]
    todo = [(s, h) for s, h in zip(sections, hashes, strict=True)
            if known.get(s.title) != (h, embedder.name)]
    vectors = await embedder.embed([f"{s.title}. {s.content}" for s, _ in todo]) if todo else []
    async with pool.acquire() as conn, conn.transaction():
        for (section, digest), vector in zip(todo, vectors, strict=True):
            await reference.upsert_knowledge(
                conn, tenant_id, title=section.title, content=section.content,
                category=section.category, source=path.name, content_hash=digest,
                embedding=vector, model=embedder.name)
        removed = await reference.delete_knowledge_except(
            conn, tenant_id, path.name, [s.title for s in sections])
        if todo or removed:
            await reference.refresh_lexemes(conn, tenant_id)
    return LoadReport(files=1, sections=len(sections), embedded=len(todo), removed=removed)


def markdown_files(path: Path) -> list[Path]:
    """Return the path itself, or a folder's `*.md` files in name order."""
    return sorted(path.glob("*.md")) if path.is_dir() else [path]


async def load_path(*, pool: Pool, tenant_id: str, path: Path, embedder: Embedder) -> LoadReport:
    """Load one Markdown file, or every `*.md` file of a folder."""
    files = await asyncio.to_thread(markdown_files, path)
    if not files:
        raise FileNotFoundError(f"no Markdown files in {path}")
    total = LoadReport(files=0, sections=0, embedded=0, removed=0)
    for file in files:
        report = await load_markdown(pool=pool, tenant_id=tenant_id, path=file, embedder=embedder)
        total = LoadReport(files=total.files + 1, sections=total.sections + report.sections,
                           embedded=total.embedded + report.embedded,
                           removed=total.removed + report.removed)
    return total


def _hash(section: Section) -> str:
    digest = hashlib.sha256(f"{section.title}\n{section.category}\n{section.content}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class KnowledgeStatus:
    sections: int  # in the knowledge base now
    loaded_now: bool


async def load_if_empty(*, pool: Pool, tenant_id: str, folder: Path,
                        embedder: Embedder) -> KnowledgeStatus:
    """Load the default documents when the tenant has no passages embedded by this embedder.

    That covers a fresh database and a switch of embedding model (an OpenAI key set on a
    knowledge base embedded locally): vectors of two models are not comparable, so the
    passages are embedded again.
    """
    async with pool.acquire() as conn:
        count = await reference.count_knowledge(conn, tenant_id, model=embedder.name)
    files = [folder / name for name in DEFAULT_FILES if (folder / name).exists()]
    if count or not files:
        return KnowledgeStatus(sections=count, loaded_now=False)
    loaded = 0
    for file in files:
        loaded += (await load_markdown(pool=pool, tenant_id=tenant_id, path=file,
                                       embedder=embedder)).sections
    return KnowledgeStatus(sections=loaded, loaded_now=True)


async def add_sections(*, pool: Pool, tenant_id: str, sections: Sequence[Section],
                       embedder: Embedder, source: str) -> int:
    """Upsert `sections` as passages of `source` (embedded, searchable at once); return how
    many. One transaction; the lexicon is refreshed with them."""
    if not sections:
        return 0
    vectors = await embedder.embed([f"{s.title}. {s.content}" for s in sections])
    async with pool.acquire() as conn, conn.transaction():
        for section, vector in zip(sections, vectors, strict=True):
            await reference.upsert_knowledge(
                conn, tenant_id, title=section.title, content=section.content,
                category=section.category, source=source, content_hash=_hash(section),
                embedding=vector, model=embedder.name)
        await reference.refresh_lexemes(conn, tenant_id)
    return len(sections)
