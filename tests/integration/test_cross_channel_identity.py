"""Cross-channel identity against a real PostgreSQL: intake links and merges (migration 006),
human merges and candidates (services.identity), concurrency, atomicity, tenant isolation, and
what the agent sees afterwards.

The module has a database of its own (`isolated_settings`): the session database is swept by the
running stack's sweeper, whose worker would answer these messages and add replies to the
histories counted here.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import phonenumbers
import pytest
from prometheus_client import REGISTRY

from production.agent import operations
from production.agent.runner import SupportAgent
from production.config import Settings
from production.database.pool import Pool
from production.domain.identity import Candidate, Create, InvalidIdentifier, Link, Merge
from production.domain.messages import InboundMessage, InvalidMessage
from production.domain.support_form import SupportFormSubmission
from production.domain.ticket_access import TicketLinks
from production.embeddings import local_embedder
from production.metrics import LINKED_CUSTOMERS, MERGES
from production.services import identity, intake, scheduler
from production.services.process_inbound import WorkerDeps, process
from tests.conftest import unique_email, wait_for
from tests.integration.care_world import care_db

TENANT = "techcorp"
TOPIC = "identity-test.incoming"
# The form issues each ticket's token; these tests never read one back.
LINKS = TicketLinks(secret=b"identity-tests", base_url="http://127.0.0.1:8000")
_rng = random.Random()


identity_db = care_db("identity", max_size=12)


@pytest.fixture
def db(identity_db: tuple[Settings, Pool]) -> Pool:
    return identity_db[1]


def new_phone() -> phonenumbers.PhoneNumber:
    """A random valid US mobile-or-landline number."""
    while True:
        number = phonenumbers.parse(
            f"+1{_rng.choice(['212', '312', '415', '617', '646', '718'])}"
            f"{_rng.randint(200, 999)}{_rng.randint(0, 9999):04d}")
        if phonenumbers.is_valid_number(number):
            return number


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def message(channel: str, *, email: str | None = None, phone: str | None = None,
            when: datetime | None = None, content: str = "Hello, I need some help please.",
            subject: str | None = None, tenant: str = TENANT) -> InboundMessage:
    return InboundMessage(
        tenant_id=tenant, channel=channel,  # type: ignore[arg-type]
        external_id=f"{channel}-{uuid.uuid4().hex}", content=content, subject=subject,
        sender_name="Ada Lovelace", sender_email=email, sender_phone=phone,
        received_at=when or datetime.now(UTC),
    )


async def ingest(pool: Pool, msg: InboundMessage) -> intake.Ingested:
    async with pool.acquire() as conn, conn.transaction():
        return await intake.ingest(conn, msg)


async def fetch(pool: Pool, sql: str, *args: Any) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch(sql, *args)


async def value(pool: Pool, sql: str, *args: Any) -> Any:
    async with pool.acquire() as conn:
        return await conn.fetchval(sql, *args)


async def owned(pool: Pool, customer_id: UUID) -> set[tuple[str, str]]:
    rows = await fetch(pool, "SELECT identifier_type, identifier_value FROM customer_identifiers "
                             "WHERE tenant_id = $1 AND customer_id = $2", TENANT, customer_id)
    return {(r["identifier_type"], r["identifier_value"]) for r in rows}


async def holdings(pool: Pool, customer_id: UUID, tenant: str = TENANT) -> dict[str, int]:
    return {table: await value(pool, f"SELECT count(*) FROM {table} "
                                     "WHERE tenant_id = $1 AND customer_id = $2",
                               tenant, customer_id)
            for table in ("customer_identifiers", "conversations", "messages", "tickets")}


async def recognized(pool: Pool) -> tuple[float, float]:
    """Return what the scheduler reports now: customers known on two channels, merges done."""
    await scheduler.observe_waiting(pool=pool, now=datetime.now(UTC))
    linked = REGISTRY.get_sample_value(LINKED_CUSTOMERS.name, {"tenant": TENANT})
    merged = REGISTRY.get_sample_value(MERGES.name, {"tenant": TENANT, "status": "merged"})
    assert linked is not None and merged is not None
    return linked, merged


async def merges_between(pool: Pool, a: UUID, b: UUID) -> list[asyncpg.Record]:
    return await fetch(pool, "SELECT * FROM customer_merges WHERE tenant_id = $1 AND "
                             "least(survivor_id, merged_id) = least($2::uuid, $3::uuid) AND "
                             "greatest(survivor_id, merged_id) = greatest($2::uuid, $3::uuid) "
                             "ORDER BY created_at", TENANT, a, b)


async def merged_into(pool: Pool, customer_id: UUID) -> UUID | None:
    return await value(pool, "SELECT merged_into FROM customers WHERE tenant_id = $1 AND id = $2",
                       TENANT, customer_id)


async def submit_form(pool: Pool, *, email: str, phone: str | None = None,
                      subject: str = "Cannot export my project") -> asyncpg.Record:
    form = SupportFormSubmission(name="Ada Lovelace", email=email, phone=phone, subject=subject,
                                 message="How do I export my project data as CSV?")
    receipt = await intake.submit_support_form(pool=pool, tenant_id=TENANT, form=form,
                                               idempotency_key=None, topic=TOPIC,
                                               links=LINKS)
    [row] = await fetch(pool, "SELECT m.id, m.customer_id, m.conversation_id, t.id AS ticket_id "
                              "FROM tickets t JOIN messages m ON m.id = t.source_message_id "
                              "WHERE t.tenant_id = $1 AND t.ticket_number = $2",
                        TENANT, receipt.ticket_id)
    return row


async def test_form_then_whatsapp_then_a_form_with_both_merges_with_everything_moved(
    db: Pool,
) -> None:
    email, phone = unique_email("ada"), new_phone()
    first = await submit_form(db, email=f"  {email.upper()} ")
    a = first["customer_id"]
    chat = await intake.accept_inbound(pool=db,
                                       msg=message("whatsapp", phone=f"whatsapp:{e164(phone)}"),
                                       topic=TOPIC)
    b = chat.customer_id
    assert b != a  # nothing linked them yet
    ticket_b = await operations.open_ticket(
        db, TENANT, customer_id=b, conversation_id=chat.conversation_id, channel="whatsapp",
        message_id=chat.message_id, subject="Export question")
    before = {"a": await holdings(db, a), "b": await holdings(db, b)}
    assert before["b"] == {"customer_identifiers": 1, "conversations": 1, "messages": 1,
                           "tickets": 1}
    reported = await recognized(db)

    third = await submit_form(db, email=email, phone=national(phone))  # "(212) 555-0123"

    # What the scheduler reports: one more customer known on two channels, one more merge.
    assert await recognized(db) == (reported[0] + 1, reported[1] + 1)

    assert third["customer_id"] == a  # the oldest survives
    assert await merged_into(db, b) == a
    assert await identity.current_customer(pool=db, tenant_id=TENANT, customer_id=b) == a
    assert await holdings(db, b) == dict.fromkeys(before["b"], 0)
    assert await holdings(db, a) == {"customer_identifiers": 2, "conversations": 2,
                                     "messages": 3, "tickets": 3}
    assert await owned(db, a) == {("email", email), ("phone", e164(phone))}
    assert await value(db, "SELECT customer_id FROM tickets WHERE id = $1", ticket_b.id) == a
    [merge] = await merges_between(db, a, b)
    assert (merge["status"], merge["survivor_id"], merge["merged_id"], merge["actor"]) == (
        "merged", a, b, "fte-intake")
    evidence = merge["evidence"]
    assert evidence["rule"] == "one_message"
    assert evidence["message"]["message_id"] == str(third["id"])
    assert evidence["message"]["channel"] == "web_form"
    assert evidence["message"]["identifiers"] == [
        {"type": "email", "value": email, "owner": str(a)},
        {"type": "phone", "value": e164(phone), "owner": str(b)}]
    assert evidence["moved"] == {"identifiers": 1, "conversations": 1, "messages": 1,
                                 "tickets": 1, "care_state_history": 0}
    assert evidence["merged_customer"]["phone"] == e164(phone)
    # The form continued the most recent open conversation (the WhatsApp one): a switch.
    assert third["conversation_id"] == chat.conversation_id
    switches = await value(db, "SELECT channel_switches FROM conversations WHERE id = $1",
                           chat.conversation_id)
    assert [(s["from"], s["to"]) for s in switches] == [("whatsapp", "web_form")]
    customer = (await fetch(db, "SELECT email, phone FROM customers WHERE id = $1", a))[0]
    assert (customer["email"], customer["phone"]) == (email, e164(phone))


async def test_a_channel_switch_is_logged_when_a_known_customer_writes_elsewhere(
    db: Pool,
) -> None:
    email, phone = unique_email("switch"), new_phone()
    start = datetime.now(UTC) - timedelta(hours=2)
    first = await ingest(db, message("web_form", email=email, phone=e164(phone), when=start))
    chat = await ingest(db, message("whatsapp", phone=f"whatsapp:{e164(phone)}",
                                    when=start + timedelta(minutes=30)))
    mail = await ingest(db, message("email", email=f"Ada Lovelace <{email}>",
                                    when=start + timedelta(hours=1)))
    assert first.customer_id == chat.customer_id == mail.customer_id
    assert first.conversation_id == chat.conversation_id == mail.conversation_id
    row = (await fetch(db, "SELECT initial_channel, current_channel, channel_switches "
                           "FROM conversations WHERE id = $1", first.conversation_id))[0]
    assert (row["initial_channel"], row["current_channel"]) == ("web_form", "email")
    assert [(s["from"], s["to"]) for s in row["channel_switches"]] == [
        ("web_form", "whatsapp"), ("whatsapp", "email")]


async def test_after_a_merge_the_agent_reads_the_last_20_messages_of_every_channel(
    identity_db: tuple[Settings, Pool],
) -> None:
    settings, db = identity_db
    email, phone = unique_email("history"), new_phone()
    start = datetime.now(UTC) - timedelta(days=3)
    for i in range(12):
        await ingest(db, message("email", email=email, content=f"Email number {i} about billing.",
                                 subject="Invoice question",
                                 when=start + timedelta(minutes=i)))
    for i in range(12):
        await ingest(db, message("whatsapp", phone=f"whatsapp:{e164(phone)}",
                                 content=f"WhatsApp number {i}: Slack stopped posting.",
                                 when=start + timedelta(hours=1, minutes=i)))
    final = message("web_form", email=email, phone=e164(phone), subject="Two-factor setup",
                    content="How do I set up two-factor authentication for my team?")
    stored = await ingest(db, final)

    history = await operations.customer_history(db, TENANT, stored.customer_id,
                                                current_message_id=stored.message_id)
    assert len(history) == 20
    assert {m["channel"] for m in history} == {"email", "whatsapp", "web_form"}
    assert history[-1]["current"] is True and history[-1]["channel"] == "web_form"
    assert [m["content"] for m in history[:7]] == [
        f"Email number {i} about billing." for i in range(5, 12)]  # the newest 20, oldest first
    assert sum(m["channel"] == "whatsapp" for m in history) == 12

    deps = WorkerDeps(pool=db, settings=settings, agent=SupportAgent(settings),
                      embedder=local_embedder())
    handled = await process(deps, final, clock=lambda: datetime.now(UTC))
    assert handled.result == "replied" and handled.outcome is not None
    assert handled.ctx is not None and handled.ctx.customer_id == stored.customer_id
    assert "I see you contacted us about" in handled.outcome.reply
    assert "via WhatsApp." in handled.outcome.reply


async def test_two_different_emails_are_never_merged_a_candidate_waits_for_a_human(
    db: Pool,
) -> None:
    work, personal, phone = unique_email("work"), unique_email("personal"), new_phone()
    a = (await ingest(db, message("email", email=work))).customer_id
    b = (await ingest(db, message("web_form", email=personal, phone=e164(phone)))).customer_id

    linking = await ingest(db, message("web_form", email=work, phone=f"+1 {national(phone)}"))

    assert linking.customer_id == a  # a web form belongs to the owner of its email
    assert await merged_into(db, a) is None and await merged_into(db, b) is None
    assert await owned(db, a) == {("email", work)}
    assert await owned(db, b) == {("email", personal), ("phone", e164(phone))}
    [candidate] = await merges_between(db, a, b)
    assert (candidate["status"], candidate["survivor_id"], candidate["merged_id"]) == (
        "candidate", a, b)
    assert candidate["evidence"]["rule"] == "different_emails"
    assert [m["message_id"] for m in candidate["evidence"]["messages"]] == [
        str(linking.message_id)]
    # WhatsApp is addressed from the phone: its owner gets the message.
    chat = await ingest(db, message("whatsapp", phone=f"whatsapp:{e164(phone)}"))
    assert chat.customer_id == b
    again = await ingest(db, message("web_form", email=work, phone=e164(phone)))
    [candidate] = await merges_between(db, a, b)  # still one candidate, with more evidence
    assert [m["message_id"] for m in candidate["evidence"]["messages"]] == [
        str(linking.message_id), str(again.message_id)]
    listed = await identity.list_candidates(pool=db, tenant_id=TENANT, limit=1000)
    assert candidate["id"] in {c.id for c in listed}

    record = await identity.merge_customers(pool=db, tenant_id=TENANT, survivor_id=a, merged_id=b,
                                            actor="agent@techcorp",
                                            reason="Same person: confirmed on a call")
    assert (record.status, record.survivor_id, record.merged_id, record.actor) == (
        "merged", a, b, "agent@techcorp")
    assert record.evidence["rule"] == "human_decision"
    assert record.evidence["moved"]["messages"] == 2
    assert await merged_into(db, b) == a
    assert await owned(db, a) == {("email", work), ("email", personal), ("phone", e164(phone))}
    assert await holdings(db, a) == {"customer_identifiers": 3, "conversations": 2,
                                     "messages": 5, "tickets": 0}
    statuses = {r["status"]: r for r in await merges_between(db, a, b)}
    assert set(statuses) == {"accepted", "merged"}
    assert statuses["accepted"]["decided_by"] == "agent@techcorp"
    remaining = await identity.list_candidates(pool=db, tenant_id=TENANT, limit=1000)
    assert candidate["id"] not in {c.id for c in remaining}
    # After the human merge the person is one customer on every channel.
    assert (await ingest(db, message("email", email=personal))).customer_id == a


async def test_human_merges_that_cannot_be_done_are_refused_with_a_reason(db: Pool) -> None:
    a = (await ingest(db, message("email", email=unique_email("r1")))).customer_id
    b = (await ingest(db, message("email", email=unique_email("r2")))).customer_id
    with pytest.raises(identity.MergeRefused, match="cannot be merged into itself"):
        await identity.merge_customers(pool=db, tenant_id=TENANT, survivor_id=a, merged_id=a,
                                       actor="agent", reason="oops")
    with pytest.raises(identity.MergeRefused, match="a merge needs a reason"):
        await identity.merge_customers(pool=db, tenant_id=TENANT, survivor_id=a, merged_id=b,
                                       actor="agent", reason="  ")
    with pytest.raises(identity.MergeRefused, match="a merge needs an actor"):
        await identity.merge_customers(pool=db, tenant_id=TENANT, survivor_id=a, merged_id=b,
                                       actor="", reason="same person")
    with pytest.raises(identity.CustomerNotFound):
        await identity.merge_customers(pool=db, tenant_id=TENANT, survivor_id=a,
                                       merged_id=uuid.uuid4(), actor="agent", reason="same person")
    with pytest.raises(identity.CustomerNotFound):
        await identity.current_customer(pool=db, tenant_id=TENANT, customer_id=uuid.uuid4())
    await identity.merge_customers(pool=db, tenant_id=TENANT, survivor_id=a, merged_id=b,
                                   actor="agent", reason="same person")
    with pytest.raises(identity.MergeRefused, match=f"{b} was already merged into {a}"):
        await identity.merge_customers(pool=db, tenant_id=TENANT, survivor_id=a, merged_id=b,
                                       actor="agent", reason="same person")
    with pytest.raises(identity.MergeRefused, match="already merged"):
        await identity.merge_customers(pool=db, tenant_id=TENANT, survivor_id=b, merged_id=a,
                                       actor="agent", reason="same person")


async def test_a_shared_family_phone_does_not_merge_two_people_and_a_dismissal_sticks(
    db: Pool,
) -> None:
    mom, dad, home = unique_email("mom"), unique_email("dad"), new_phone()
    m = (await ingest(db, message("web_form", email=mom, phone=e164(home)))).customer_id
    d_msg = await ingest(db, message("web_form", email=dad, phone=national(home)))
    d = d_msg.customer_id
    assert d != m
    assert await owned(db, d) == {("email", dad)}
    assert await owned(db, m) == {("email", mom), ("phone", e164(home))}
    [candidate] = await merges_between(db, m, d)
    assert candidate["status"] == "candidate"
    customer = (await fetch(db, "SELECT email, phone FROM customers WHERE id = $1", d))[0]
    assert (customer["email"], customer["phone"]) == (dad, None)

    await identity.dismiss_candidate(pool=db, tenant_id=TENANT, candidate_id=candidate["id"],
                                     actor="agent", reason="Different people")
    [dismissed] = await merges_between(db, m, d)
    assert (dismissed["status"], dismissed["decision_reason"]) == ("dismissed",
                                                                  "Different people")
    with pytest.raises(identity.CandidateNotFound):
        await identity.dismiss_candidate(pool=db, tenant_id=TENANT, candidate_id=candidate["id"],
                                         actor="agent", reason="again")
    with pytest.raises(identity.MergeRefused):
        await identity.dismiss_candidate(pool=db, tenant_id=TENANT, candidate_id=candidate["id"],
                                         actor="agent", reason="")
    # The same evidence again: the message goes to dad, no new candidate.
    again = await ingest(db, message("web_form", email=dad, phone=e164(home)))
    assert again.customer_id == d
    assert [r["status"] for r in await merges_between(db, m, d)] == ["dismissed"]


async def test_concurrent_first_messages_of_one_person_make_one_customer(db: Pool) -> None:
    email, phone = unique_email("burst"), new_phone()
    variants = [email, email.upper(), f" {email} ", f"mailto:{email}", f"Ada <{email}>"]
    phones = [e164(phone), national(phone), f"whatsapp:{e164(phone)}",
              f"001{phonenumbers.national_significant_number(phone)}", f"+1-{national(phone)}"]
    msgs = [message("web_form", email=variants[i % 5], phone=phones[i % 5]) for i in range(10)]

    results = await asyncio.gather(*(ingest(db, m) for m in msgs))

    assert len({r.customer_id for r in results}) == 1
    customers = await value(db, "SELECT count(*) FROM customers WHERE tenant_id = $1 AND "
                                "email = $2", TENANT, email)
    assert customers == 1
    assert await owned(db, results[0].customer_id) == {("email", email), ("phone", e164(phone))}


async def test_concurrent_partial_messages_end_on_one_customer_through_merges(db: Pool) -> None:
    email, phone = unique_email("race"), new_phone()
    msgs = [message("email", email=email) for _ in range(4)]
    msgs += [message("whatsapp", phone=f"whatsapp:{e164(phone)}") for _ in range(4)]
    msgs += [message("web_form", email=email, phone=e164(phone)) for _ in range(2)]
    _rng.shuffle(msgs)

    await asyncio.gather(*(ingest(db, m) for m in msgs))

    owners = await fetch(db, "SELECT DISTINCT customer_id FROM messages WHERE tenant_id = $1 "
                             "AND external_id = ANY($2::text[])",
                         TENANT, [m.external_id for m in msgs])
    assert len(owners) == 1
    survivor = owners[0]["customer_id"]
    assert await merged_into(db, survivor) is None
    assert await owned(db, survivor) == {("email", email), ("phone", e164(phone))}
    merges = await fetch(db, "SELECT status FROM customer_merges WHERE tenant_id = $1 "
                             "AND survivor_id = $2", TENANT, survivor)
    assert [r["status"] for r in merges] in ([], ["merged"])


async def test_concurrent_links_never_give_one_customer_two_emails(db: Pool) -> None:
    p, q = new_phone(), new_phone()
    first = (await ingest(db, message("whatsapp", phone=e164(p)))).customer_id
    second = (await ingest(db, message("whatsapp", phone=e164(q)))).customer_id
    await identity.merge_customers(pool=db, tenant_id=TENANT, survivor_id=first, merged_id=second,
                                   actor="agent", reason="one person, two phones")
    emails = [unique_email(f"slowlink{i}") for i in range(10)]
    msgs = [message("web_form", email=e, phone=e164(p if i % 2 else q))
            for i, e in enumerate(emails)]
    async with db.acquire() as conn:
        # Widen the race: each link holds its transaction open a moment after adding the email.
        await conn.execute("""
            CREATE FUNCTION slow_link() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_sleep(0.1); RETURN NEW; END $$;
            CREATE TRIGGER slow_link AFTER INSERT ON customer_identifiers FOR EACH ROW
                WHEN (NEW.identifier_value LIKE 'slowlink%') EXECUTE FUNCTION slow_link();
        """)
    try:
        results = await asyncio.gather(*(ingest(db, m) for m in msgs))
    finally:
        async with db.acquire() as conn:
            await conn.execute("DROP TRIGGER slow_link ON customer_identifiers; "
                               "DROP FUNCTION slow_link();")

    assert len([i for i in await owned(db, first) if i[0] == "email"]) == 1
    assert len({r.customer_id for r in results}) == 10  # each email its own customer
    for e, r in zip(emails, results, strict=True):
        assert ("email", e) in await owned(db, r.customer_id)
    candidates = await value(db, "SELECT count(*) FROM customer_merges WHERE tenant_id = $1 "
                                 "AND status = 'candidate' AND $2 IN (survivor_id, merged_id)",
                             TENANT, first)
    assert candidates == 9


MERGE_GATE = 5_150_001  # an advisory lock the merge waits on while the test holds it


async def _waiting_for_locks(pool: Pool, count: int) -> bool:
    """True when at least `count` sessions of this database wait for a lock."""
    return bool(await value(pool, "SELECT count(*) >= $1 FROM pg_stat_activity "
                                  "WHERE datname = current_database() "
                                  "AND wait_event_type = 'Lock'", count))


async def test_an_intake_racing_a_merge_follows_the_duplicate_to_the_survivor(db: Pool) -> None:
    email, p, q = unique_email("follow"), new_phone(), new_phone()
    a = (await ingest(db, message("email", email=email))).customer_id
    b = (await ingest(db, message("whatsapp", phone=e164(p)))).customer_id
    c = (await ingest(db, message("whatsapp", phone=e164(q)))).customer_id
    await identity.merge_customers(pool=db, tenant_id=TENANT, survivor_id=b, merged_id=c,
                                   actor="agent", reason="one person, two phones")
    async with db.acquire() as conn:
        # Hold the merge open at a gate the test keeps shut while messages from the
        # duplicate's other phone arrive.
        await conn.execute(f"""
            CREATE FUNCTION merge_gate() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_advisory_xact_lock({MERGE_GATE}); RETURN NEW; END $$;
            CREATE TRIGGER merge_gate AFTER INSERT ON customer_merges FOR EACH ROW
                WHEN (NEW.merged_id = '{b}') EXECUTE FUNCTION merge_gate();
        """)
    try:
        async with db.acquire() as gate:
            await gate.execute("SELECT pg_advisory_lock($1)", MERGE_GATE)
            merging = asyncio.create_task(ingest(db, message("web_form", email=email,
                                                             phone=e164(p))))
            await wait_for(lambda: _waiting_for_locks(db, 1))  # the merge, at the gate
            chatting = [asyncio.create_task(ingest(db, message("whatsapp", phone=e164(q))))
                        for _ in range(5)]

            async def each_chat_waits_or_is_done() -> bool:
                running = sum(not chat.done() for chat in chatting)
                return await _waiting_for_locks(db, 1 + running)

            await wait_for(each_chat_waits_or_is_done)
            assert not merging.done()
            await gate.execute("SELECT pg_advisory_unlock($1)", MERGE_GATE)
        chats = await asyncio.gather(*chatting)
        merged = await merging
    finally:
        async with db.acquire() as conn:
            await conn.execute("DROP TRIGGER merge_gate ON customer_merges; "
                               "DROP FUNCTION merge_gate();")
    assert merged.customer_id == a and await merged_into(db, b) == a
    assert {chat.customer_id for chat in chats} == {a}
    assert await holdings(db, b) == dict.fromkeys(("customer_identifiers", "conversations",
                                                   "messages", "tickets"), 0)
    assert (await holdings(db, a))["messages"] == 9


async def test_a_failed_merge_leaves_both_customers_as_they_were(db: Pool) -> None:
    email, phone = unique_email("atomic"), new_phone()
    a_msg = await ingest(db, message("email", email=email))
    b_msg = await ingest(db, message("whatsapp", phone=e164(phone)))
    a, b = a_msg.customer_id, b_msg.customer_id
    await operations.open_ticket(db, TENANT, customer_id=b, conversation_id=b_msg.conversation_id,
                                 channel="whatsapp", message_id=b_msg.message_id, subject="x")
    before = {a: await holdings(db, a), b: await holdings(db, b)}
    async with db.acquire() as conn:
        # A real failure half-way: the tickets move is refused after identifiers, conversations
        # and messages already moved inside the transaction.
        await conn.execute(f"""
            CREATE FUNCTION refuse_ticket_move() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.customer_id = '{b}' THEN RAISE EXCEPTION 'disk full'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_ticket_move BEFORE UPDATE OF customer_id ON tickets
                FOR EACH ROW EXECUTE FUNCTION refuse_ticket_move();
        """)
    try:
        with pytest.raises(asyncpg.RaiseError, match="disk full"):
            await identity.merge_customers(pool=db, tenant_id=TENANT, survivor_id=a, merged_id=b,
                                           actor="agent", reason="same person")
        with pytest.raises(asyncpg.RaiseError, match="disk full"):  # intake's merge, too
            await ingest(db, message("web_form", email=email, phone=e164(phone)))
    finally:
        async with db.acquire() as conn:
            await conn.execute("DROP TRIGGER refuse_ticket_move ON tickets; "
                               "DROP FUNCTION refuse_ticket_move();")
    assert {a: await holdings(db, a), b: await holdings(db, b)} == before
    assert await merged_into(db, a) is None and await merged_into(db, b) is None
    assert await merges_between(db, a, b) == []
    assert await owned(db, b) == {("phone", e164(phone))}


async def test_a_merge_moves_care_state_and_metrics_the_safe_way(db: Pool) -> None:
    a_msg = await ingest(db, message("email", email=unique_email("care")))
    phone = new_phone()
    b_msg = await ingest(db, message("whatsapp", phone=e164(phone)))
    a, b = a_msg.customer_id, b_msg.customer_id
    now = datetime.now(UTC)
    async with db.acquire() as conn:
        await conn.executemany(
            "INSERT INTO customer_care_state (tenant_id, entity_type, entity_id, care_state, "
            "hands_off_enabled, escalation_status, last_signal_at) "
            "VALUES ($1, 'contact', $2, $3, $4, $5, $6)",
            [(TENANT, a, "engaged", True, None, now - timedelta(days=2)),
             (TENANT, b, "at_risk", True, "open", now - timedelta(hours=1))])
        await conn.execute(
            "INSERT INTO customer_care_state_history (tenant_id, entity_type, entity_id, "
            "from_state, to_state, reason, actor) "
            "VALUES ($1, 'contact', $2, 'engaged', 'at_risk', 'negative sentiment', 'test')",
            TENANT, b)
        await conn.execute(
            "INSERT INTO agent_metrics (tenant_id, message_id, conversation_id, channel, "
            "metric_name, metric_value) VALUES ($1, $2, $3, 'whatsapp', 'sentiment', 0.2)",
            TENANT, b_msg.message_id, b_msg.conversation_id)

    record = await identity.merge_customers(pool=db, tenant_id=TENANT, survivor_id=a, merged_id=b,
                                            actor="agent", reason="same person")

    state = await fetch(db, "SELECT entity_id, care_state, hands_off_enabled, escalation_status "
                            "FROM customer_care_state WHERE tenant_id = $1 "
                            "AND entity_id = ANY($2::uuid[])", TENANT, [a, b])
    assert [tuple(r.values()) for r in state] == [(a, "at_risk", True, "open")]
    history = await fetch(db, "SELECT entity_id, from_state, to_state, reason "
                              "FROM customer_care_state_history WHERE tenant_id = $1 "
                              "AND entity_id = ANY($2::uuid[]) ORDER BY id", TENANT, [a, b])
    assert [r["entity_id"] for r in history] == [a, a]
    assert (history[1]["from_state"], history[1]["to_state"]) == ("engaged", "at_risk")
    assert str(b) in history[1]["reason"]
    assert record.evidence["care_state_folded"][0]["care_state"] == "at_risk"
    assert record.evidence["moved"]["care_state_history"] == 1
    metrics = await value(db, "SELECT count(*) FROM agent_metrics am JOIN messages m "
                              "ON m.id = am.message_id WHERE am.tenant_id = $1 "
                              "AND m.customer_id = $2", TENANT, a)
    assert metrics == 1


async def test_the_same_email_in_two_tenants_is_two_customers_never_merged(db: Pool) -> None:
    other = f"acme-{uuid.uuid4().hex[:8]}"
    async with db.acquire() as conn:
        await conn.execute("INSERT INTO tenants (id, name, timezone, default_region) "
                           "VALUES ($1, 'Acme UK', 'Europe/London', 'GB')", other)
    email, phone = unique_email("tenant"), new_phone()
    ours = await ingest(db, message("web_form", email=email, phone=e164(phone)))
    theirs = await ingest(db, message("email", email=email, tenant=other))
    assert theirs.customer_id != ours.customer_id
    # In the other tenant the phone is new: linked there, nothing of ours touched.
    both = await ingest(db, message("web_form", email=email, phone=e164(phone), tenant=other))
    assert both.customer_id == theirs.customer_id
    assert await merges_between(db, ours.customer_id, theirs.customer_id) == []
    assert await holdings(db, ours.customer_id) == {"customer_identifiers": 2,
                                                   "conversations": 1, "messages": 1,
                                                   "tickets": 0}
    assert (await holdings(db, theirs.customer_id, other))["messages"] == 2
    with pytest.raises(identity.CustomerNotFound):
        await identity.merge_customers(pool=db, tenant_id=other, survivor_id=theirs.customer_id,
                                       merged_id=ours.customer_id, actor="agent",
                                       reason="cross-tenant")
    # The other tenant's region reads national numbers: 020 is London there.
    london = await ingest(db, message("whatsapp", phone="020 7946 0958", tenant=other))
    assert await value(db, "SELECT identifier_value FROM customer_identifiers "
                           "WHERE tenant_id = $1 AND customer_id = $2", other,
                       london.customer_id) == "+442079460958"
    assert await identity.list_candidates(pool=db, tenant_id=other) == []


async def test_invalid_identifiers_are_never_stored(db: Pool) -> None:
    bad = message("whatsapp", phone="whatsapp:12")
    with pytest.raises(InvalidMessage, match="phone: not a valid phone number: too short"):
        await ingest(db, bad)
    assert await value(db, "SELECT count(*) FROM messages WHERE external_id = $1",
                       bad.external_id) == 0
    email = unique_email("partial")
    kept = await ingest(db, message("email", email=email, phone="call me maybe"))
    assert await owned(db, kept.customer_id) == {("email", email)}
    with pytest.raises(InvalidIdentifier, match="email: not a valid email address"):
        await identity.preview(pool=db, tenant_id=TENANT, channel="email", email="ada@", phone=None)


@pytest.mark.parametrize("case", [
    "new person", "known email with a new phone", "phone-only customer gives an email",
    "email owner and phone-only owner", "two emails on a web form", "two emails on whatsapp",
    "new email with a household phone", "new email with a household phone on whatsapp",
])
async def test_intake_sql_decides_what_the_domain_rule_says(db: Pool, case: str) -> None:
    email, other_email, phone = unique_email("rule"), unique_email("rule"), new_phone()
    p = e164(phone)
    setup: list[InboundMessage] = {
        "new person": [],
        "known email with a new phone": [message("email", email=email)],
        "phone-only customer gives an email": [message("whatsapp", phone=p)],
        "email owner and phone-only owner": [message("email", email=email),
                                             message("whatsapp", phone=p)],
        "two emails on a web form": [message("email", email=email),
                                     message("web_form", email=other_email, phone=p)],
        "two emails on whatsapp": [message("email", email=email),
                                   message("web_form", email=other_email, phone=p)],
        "new email with a household phone": [message("web_form", email=other_email, phone=p)],
        "new email with a household phone on whatsapp": [
            message("web_form", email=other_email, phone=p)],
    }[case]
    for msg in setup:
        await ingest(db, msg)
    channel = "whatsapp" if case.endswith("on whatsapp") else "web_form"
    decision = await identity.preview(pool=db, tenant_id=TENANT, channel=channel, email=email,
                                      phone=national(phone))

    stored = await ingest(db, message(channel, email=email, phone=national(phone)))

    expected_type = {
        "new person": Create, "known email with a new phone": Link,
        "phone-only customer gives an email": Link, "email owner and phone-only owner": Merge,
        "two emails on a web form": Candidate, "two emails on whatsapp": Candidate,
        "new email with a household phone": Candidate,
        "new email with a household phone on whatsapp": Candidate,
    }[case]
    assert type(decision) is expected_type
    mine = await owned(db, stored.customer_id)
    if isinstance(decision, Create):
        assert mine == {("email", email), ("phone", p)}
    elif isinstance(decision, Link):
        assert stored.customer_id == decision.customer_id
        assert {(i.type, i.value) for i in decision.new} <= mine
    elif isinstance(decision, Merge):
        assert stored.customer_id == decision.survivor_id
        for merged in decision.merged_ids:
            assert await merged_into(db, merged) == decision.survivor_id
        assert mine == {("email", email), ("phone", p)}
    else:
        assert isinstance(decision, Candidate)
        if decision.attach_to is None:
            assert mine == {(i.type, i.value) for i in decision.new_customer}
        else:
            assert stored.customer_id == decision.attach_to
        for other in decision.others:
            partner = other or await value(
                db, "SELECT customer_id FROM customer_identifiers WHERE tenant_id = $1 AND "
                    "identifier_value = $2", TENANT, email)
            [candidate] = await merges_between(db, stored.customer_id, partner)
            assert candidate["status"] == "candidate"
