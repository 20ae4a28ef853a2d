"""Loading the knowledge base from Markdown: one section per heading."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

from production.database.pool import Pool
from production.database.queries import reference

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


async def load_markdown(pool: Pool, tenant_id: str, path: Path) -> int:
    """Upsert every section of the Markdown file; return how many sections it had."""
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    sections = chunk_markdown(text)
    async with pool.acquire() as conn, conn.transaction():
        for section in sections:
            await reference.upsert_knowledge(conn, tenant_id, title=section.title,
                                             content=section.content, category=section.category,
                                             source=path.name)
    return len(sections)


@dataclass(frozen=True)
class KnowledgeStatus:
    sections: int  # in the knowledge base now
    loaded_now: bool


async def load_if_empty(pool: Pool, tenant_id: str, folder: Path) -> KnowledgeStatus:
    """Load `product-docs.md` from the folder when the tenant's knowledge base is empty."""
    async with pool.acquire() as conn:
        count = await reference.count_knowledge(conn, tenant_id)
    docs = folder / "product-docs.md"
    if count or not docs.exists():
        return KnowledgeStatus(sections=count, loaded_now=False)
    return KnowledgeStatus(sections=await load_markdown(pool, tenant_id, docs), loaded_now=True)
