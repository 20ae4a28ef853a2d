"""The load run's judge (tests/load/check.py, tests/load/run.py) on rows made up here: it must
see a message lost at intake, one never answered, a reply never delivered, a second provider
send, a WhatsApp burst answered as one turn, and an identity in a log."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.load import check
from tests.load.run import LoadResult, pii_in_logs, verdict

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _inbound(channel: str, external_id: str, *, replies: int = 1,
             merged_into: uuid.UUID | None = None) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "channel": channel, "external_id": external_id,
            "merged_into": merged_into, "replies": replies}


def _reply(inbound: dict[str, Any], recipient: str, *, delivered: bool = True,
           parts: int = 0) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "channel": inbound["channel"], "in_reply_to": inbound["id"],
            "status": "delivered" if delivered else "queued",
            "delivered_at": T0 + timedelta(seconds=2) if delivered else None,
            "created_at": T0, "accepted_at": T0, "recipient": recipient, "parts": parts}


def test_the_judge_counts_each_way_a_message_can_go_wrong() -> None:
    web_ok, web_slow = _inbound("web_form", "k1"), _inbound("web_form", "k2", replies=0)
    last = _inbound("whatsapp", "SM2")
    first = _inbound("whatsapp", "SM1", replies=0, merged_into=last["id"])
    mail = _inbound("email", "g1")
    undelivered = _inbound("email", "g2")
    client = [{"channel": "web_form", "external_id": key, "customer": "a@x.example"}
              for key in ("k1", "k2", "k3")]
    client += [{"channel": "whatsapp", "external_id": sid, "customer": "+14155550100"}
               for sid in ("SM1", "SM2")]
    client += [{"channel": "email", "external_id": gid, "customer": "m@x.example"}
               for gid in ("g1", "g2")]
    replies = [_reply(web_ok, "a@x.example"), _reply(last, "+14155550100", parts=2),
               _reply(mail, "m@x.example"), _reply(undelivered, "n@x.example", delivered=False)]
    sends = {"whatsapp": Counter({"+14155550100": 2}),
             "email": Counter({"m@x.example": 2})}  # one send too many
    result = check.figures(client, [web_ok, web_slow, first, last, mail, undelivered],
                           replies, sends)
    web, whatsapp, email = result["web_form"], result["whatsapp"], result["email"]
    assert (web.accepted, web.stored, web.answered, web.lost) == (3, 2, 1, 2)
    assert (whatsapp.accepted, whatsapp.answered, whatsapp.delivered, whatsapp.lost,
            whatsapp.duplicated, whatsapp.replies) == (2, 2, 2, 0, 0, 1)
    assert (email.answered, email.delivered, email.lost, email.duplicated) == (2, 1, 1, 1)
    assert not check.settled(client, [web_ok, web_slow, first, last, mail, undelivered],
                             replies)
    assert check.settled(client[3:5], [first, last], replies)


def test_the_log_scan_finds_an_email_in_any_case_and_a_phone_in_any_form(
        tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    log.write_text('{"event": "x", "to": "ADA@Example.com"}\n{"from": "14155550100"}\n'
                   '{"n": "4155550123"}\n{"customer_id": "c-1"}\n')
    found, scanned = pii_in_logs([log, tmp_path / "missing.log"],
                                 {"ada@example.com", "+14155550100", "+14155550123",
                                  "bob@example.com"})
    assert found == ["api.log: +14155550100", "api.log: +14155550123",
                     "api.log: ada@example.com"]
    assert scanned == {"api.log": log.stat().st_size}


def test_chaos_picks_uvicorns_api_processes_and_the_fte_workers_only() -> None:
    from tests.load.chaos import _is

    api = ["/venv/bin/python", "-m", "production.cli", "api"]
    spawned = ["/venv/bin/python", "-B", "-c", "from multiprocessing.spawn import spawn_main; "
               "spawn_main(tracker_fd=7, pipe_handle=9)", "--multiprocessing-fork"]
    worker = ["/venv/bin/python", "-m", "production.cli", "worker"]
    assert _is("api", spawned, api) and not _is("api", api, ["fte", "up"])
    assert not _is("api", spawned, ["python", "-m", "pytest"])  # someone else's pool
    assert _is("worker", worker, ["python", "-m", "production.cli", "up"])
    assert not _is("worker", ["python", "-m", "production.cli", "dispatcher"], [])


def _run_result(**changes: Any) -> LoadResult:
    channels = {channel: {"accepted": 5, "answered": 5, "delivered": 5, "lost": 0,
                          "duplicated": 0} for channel in check.CHANNELS}
    kills = [{"at_s": 10.0, "kind": kind, "pid": 7, "replaced_after_s": 0.5}
             for kind in ("api", "worker", "api", "worker", "broker")]
    values: dict[str, Any] = {"users": 20, "duration_s": 45, "channels": channels,
                              "pii_found": [], "identities": 15, "logs_scanned": {},
                              "kills": kills}
    values.update(changes)
    return LoadResult(**values)


def test_the_chaos_verdict_names_each_thing_a_run_got_wrong() -> None:
    wanted = {"api": 2, "worker": 2, "broker": 1}
    assert verdict(_run_result(), kills=wanted) == []
    bad = _run_result()
    bad.channels["whatsapp"].update(duplicated=1)
    bad.channels["email"].update(lost=1, delivered=4)
    bad.channels["web_form"].update(accepted=0, answered=0, delivered=0)
    bad.pii_found.append("fte-up.log: ada@example.com")
    bad.kills[4]["replaced_after_s"] = None  # the broker never came back
    del bad.kills[1]  # one worker kill only
    assert verdict(bad, kills=wanted) == [
        "whatsapp: duplicated 1", "email: lost 1", "web_form: accepted nothing",
        "email: 4 of 5 delivered", "in a log: fte-up.log: ada@example.com",
        "worker: 1 kills, not 2", "broker killed at 10.0 s: not back"]
    assert not bad.ok
