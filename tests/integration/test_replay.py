"""`fte replay`: recorded messages re-run in a scratch database against the real PostgreSQL and
the real agent loop (local model); the labelled-file gate fails when an escalation is lost."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from production import bootstrap, clock, playground
from production.config import Settings
from production.database.pool import Pool
from production.domain.messages import InboundMessage
from production.embeddings import local_embedder
from production.services import knowledge
from production.services.process_inbound import process
from tests.conftest import ROOT, child_env, unique_email

MIND_MAP = knowledge.Section(
    title="Mind map view",
    content="Every project has a mind map view. Open the project, choose View, then Mind map: "
            "ideas are nodes you connect by dragging, and any node becomes a task with one "
            "click. Mind maps are on every plan.",
    category="Views")


async def _recorded(settings: Settings, pool: Pool, text: str) -> str:
    """Handle `text` as the worker would in the test database; return its ticket number."""
    deps = bootstrap.worker_deps(settings, pool, embedder=local_embedder())
    handled = await process(deps, InboundMessage(
        tenant_id="techcorp", channel="web_form", external_id=f"replay-{uuid.uuid4().hex}",
        content=text, subject="Question", sender_name="Rita Replay",
        sender_email=unique_email("replay"), sender_phone=None), clock=clock.now)
    assert handled.ctx is not None and handled.ctx.ticket_number is not None
    return handled.ctx.ticket_number


async def _live_counts(pool: Pool) -> tuple[int, int, list[str]]:
    async with pool.acquire() as conn:
        messages = await conn.fetchval("SELECT count(*) FROM messages")
        kb = await conn.fetchval("SELECT count(*) FROM knowledge_base")
        dbs = await conn.fetch("SELECT datname FROM pg_database ORDER BY datname")
    return messages, kb, [r["datname"] for r in dbs]


async def test_replay_compares_then_and_now_and_an_extra_section_answers(
        settings: Settings, pool: Pool) -> None:
    mind_map = await _recorded(settings, pool, "Do you have a mind map view? I want to "
                                               "brainstorm before making tasks")
    reset = await _recorded(settings, pool, "How do I reset my password?")
    messages = await playground.recorded_messages(settings=settings, tenant_id="techcorp",
                                                  since=None, tickets=[mind_map, reset])
    assert [(m.id, m.then_escalated, m.then_reasons) for m in messages] == [
        (mind_map, True, ("no_kb_match",)), (reset, False, ())]
    assert messages[1].then_topic == "Password reset"
    before = await _live_counts(pool)

    plain = await playground.replay(settings=settings, messages=messages)
    assert [r.change for r in plain.rows] == ["unchanged", "unchanged"]
    assert plain.rows[0].reasons == ("no_kb_match",)

    learned = await playground.replay(settings=settings, messages=messages,
                                      extra_sections=[MIND_MAP])
    assert [(r.change, r.topic) for r in learned.rows] == [
        ("escalated→answered", "Mind map view"), ("unchanged", "Password reset")]
    assert learned.totals() == {"messages": 2, "unchanged": 1, "answered→escalated": 0,
                                "escalated→answered": 1, "new": 0, "answered_now": 2,
                                "escalated_now": 0}
    assert [r.message.id for r in learned.lost_escalations()] == [mind_map]
    assert {r.policy for r in learned.rows} <= {"pending_approval", "queued"}
    assert learned.as_dict()["messages"][0]["then"] == {
        "outcome": "escalated", "reasons": ["no_kb_match"], "kb_topic": None}
    # Nothing changed in the live database; the scratch databases are gone.
    assert await _live_counts(pool) == before


def _fte(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "production.cli", *args], cwd=ROOT,
                          env=child_env(settings), capture_output=True, text=True, timeout=180)


def test_fte_replay_file_gate_fails_when_an_escalation_is_lost(settings: Settings,
                                                               tmp_path: Path) -> None:
    kept = _fte(settings, "replay", "--file", "context/sample-tickets.json",
                "--tickets", "email-001", "email-020", "--json")
    assert kept.returncode == 0, kept.stderr
    report = json.loads(kept.stdout)
    assert report["totals"]["messages"] == 2 and report["totals"]["unchanged"] == 2
    assert [m["now"]["outcome"] for m in report["messages"]] == ["answered", "escalated"]

    # Labelled escalate, but the message is a plain how-to the knowledge base answers.
    lost = tmp_path / "lost.json"
    lost.write_text(json.dumps({"tickets": [
        {"id": "must-escalate", "channel": "web_form", "from": "lou@example.com",
         "name": "Lou", "subject": "Login", "message": "How do I reset my password?",
         "expected": {"outcome": "escalate", "reasons": ["refund"]}}]}))
    failed = _fte(settings, "replay", "--file", str(lost))
    assert failed.returncode == 1
    assert "escalation(s) lost: must-escalate" in failed.stderr
    assert "escalated→answered" in failed.stdout
    known = _fte(settings, "replay", "--file", str(lost), "--allow", "must-escalate")
    assert known.returncode == 0, known.stderr

    missing = _fte(settings, "replay", "--file", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "nope.json" in missing.stderr
