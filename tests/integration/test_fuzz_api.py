"""The API fuzzed from its own OpenAPI schema (schemathesis), over real HTTP, against a real
`fte api` process on a real database: every operation, with valid and invalid data.

Each generated request is sent as generated, then as each kind of caller sends it: the admin
API with and without a tenant's key; a ticket read with its access token, without it and with
a wrong one; the WhatsApp webhooks signed with the account's token (so the fuzzed form reaches
the parser, not only the signature check) and the Gmail push with an OIDC token signed by the
fake Google's key. Every answer must be within the schema (status, content type, body and
headers), no answer may be a 5xx, and every error body must say what was wrong and nothing
internal (no traceback, source path, SQL or driver name).

`FUZZ_EXAMPLES` sets the examples per operation (`make fuzz` runs more, with a random seed);
`make test` runs a bounded, derandomized number.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import SecretStr

from production.api.app import create_app
from production.config import Settings
from production.database.pool import create_pool
from production.local_stack import EmbeddedPostgres, LocalBroker, free_port
from production.services import admin_keys
from tests.conftest import child_env, form, isolated_settings
from tests.fakes.gmail_api import FakeGmail
from tests.fakes.twilio_api import sign

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
# What an error body must never carry: a traceback, a source file, SQL, the driver's name.
INTERNAL = re.compile(r"Traceback|File \"|\.py\b|asyncpg|psycopg|SQLSTATE|\bSELECT\b|"
                      r"\bINSERT\b|\bUPDATE\b|postgres|<module>|0x[0-9a-f]{8}", re.IGNORECASE)


# A request the schema allows may still be refused for what a JSON schema cannot say (an
# email domain that does not exist, a phone number with no such area, base64 that is not a
# notification, a signature over other fields): a 4xx with the reason is the right answer.
NOT_CHECKED = [schemathesis.checks.positive_data_acceptance]


@dataclass
class Fuzzed:
    base_url: str
    key: str
    ticket: str
    token: str
    twilio_token: str
    gmail: FakeGmail
    log: Path
    # (operation path, caller, status) -> requests answered so
    answers: Counter[tuple[str, str, int]] = field(default_factory=Counter)

    def answered(self, path: str, caller: str) -> set[int]:
        return {status for (p, c, status) in self.answers if (p, c) == (path, caller)}


def _wait_ready(base_url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"fte api exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base_url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("fte api did not become healthy")


@pytest.fixture(scope="module")
def fake_google() -> Iterator[FakeGmail]:
    with FakeGmail() as fake:
        yield fake


@pytest.fixture(scope="module")
async def fuzzed(postgres: EmbeddedPostgres, broker: LocalBroker,
                 fake_google: FakeGmail) -> AsyncIterator[Fuzzed]:
    base = await isolated_settings(postgres, broker, "fuzz")
    twilio_token = uuid.uuid4().hex
    settings = base.model_copy(update={
        "gmail": fake_google.settings(),
        "twilio": base.twilio.model_copy(update={
            "account_sid": "AC" + uuid.uuid4().hex, "auth_token": SecretStr(twilio_token),
            "whatsapp_number": "+14155238886"}),
    })
    db = await create_pool(settings, min_size=1, max_size=1)
    try:
        _, key = await admin_keys.create_key(
            pool=db, tenant_id="techcorp", role="admin", name="fuzzer")
    finally:
        await db.close()
    port = free_port()
    env = child_env(settings, API_PORT=str(port), API_READY_REQUIRES_CONSUMERS="false",
                    LOG_LEVEL="INFO")
    with tempfile.TemporaryDirectory(prefix="fte-fuzz-") as tmp:
        log = Path(tmp) / "api.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "production.cli", "api"], env=env,
                                    stdout=out, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base_url, proc, log)
            opened = httpx.post(f"{base_url}/api/v1/support/form", json=form()).json()
            fuzzed = Fuzzed(base_url, key, opened["ticket_id"], opened["access_token"],
                            twilio_token, fake_google, log)
            yield fuzzed
        finally:
            proc.terminate()
            proc.wait(15)
        # The server's own account: not one request it could not answer.
        assert "api_unhandled_error" not in log.read_text()
    _report(fuzzed)


def _report(fuzzed: Fuzzed) -> None:
    """Print the run's figures, and check that every kind of caller got past the door (a
    signature or token the server refused would fuzz nothing but the refusal)."""
    total = sum(fuzzed.answers.values())
    by_status = Counter[int]()
    for (_, _, status), count in fuzzed.answers.items():
        by_status[status] += count
    operations = len({path for path, _, _ in fuzzed.answers})
    print(f"\nfuzz: {total} requests over {operations} operations, by status "
          f"{dict(sorted(by_status.items()))}")
    if not fuzzed.answers:
        return  # the run selected no operation (pytest -k)
    ticket = "/api/v1/tickets/{ticket_id}"
    expected = {(ticket, "token"): {200}, (ticket, "no token"): {404},
                (ticket, "wrong token"): {404}, ("/api/v1/admin/whoami", "key"): {200},
                ("/api/v1/admin/whoami", "as generated"): {401}}
    for (path, caller), statuses in expected.items():
        if fuzzed.answered(path, "as generated"):
            assert statuses <= fuzzed.answered(path, caller), (path, caller)
    for path, refused in (("/api/v1/webhooks/whatsapp", 403), ("/api/v1/webhooks/gmail", 401)):
        if fuzzed.answered(path, "as generated"):
            assert fuzzed.answered(path, "signed") - {refused}, path


# The schema the API serves at /openapi.json (building the app opens nothing).
schema = schemathesis.openapi.from_dict(create_app(Settings(app_env="test")).openapi())


def error_body_says_what_and_nothing_internal(ctx: Any, response: Any, case: Any) -> None:
    """An error answer is JSON whose `detail` says what was wrong, in words of the request."""
    if response.status_code < 400:
        return
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"], \
        f"an error without a detail: {response.text[:300]}"
    found = INTERNAL.search(response.text)
    assert found is None, f"an error body shows internals ({found.group(0)!r}): {response.text}"


Variant = tuple[str, dict[str, str], dict[str, Any]]  # caller, headers, path parameters


def _variants(case: Any, fuzzed: Fuzzed) -> Iterator[Variant]:
    """Yield each caller this operation is tried as."""
    path = case.operation.path
    yield "as generated", {}, {}
    if path.startswith("/api/v1/admin"):
        yield "key", {"Authorization": f"Bearer {fuzzed.key}"}, {}
        yield "x-api-key", {"X-API-Key": fuzzed.key}, {}
    elif path == "/api/v1/tickets/{ticket_id}":
        mine = {"ticket_id": fuzzed.ticket}
        yield "token", {"Authorization": f"Bearer {fuzzed.token}"}, mine
        yield "no token", {}, mine
        yield "wrong token", {"Authorization": "Bearer tkt_" + "A" * 43}, mine
        yield "operator key", {"Authorization": f"Bearer {fuzzed.key}"}, {}
    elif path.startswith("/api/v1/webhooks/whatsapp") and isinstance(case.body, dict):
        url = f"{fuzzed.base_url}{path}"
        yield "signed", {"X-Twilio-Signature": sign(fuzzed.twilio_token, url, case.body)}, {}
    elif path == "/api/v1/webhooks/gmail":
        yield "signed", {"Authorization": f"Bearer {fuzzed.gmail.sign_token()}"}, {}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_answer_is_within_the_schema_and_no_error_is_internal(
        case: Any, fuzzed: Fuzzed) -> None:
    generated = dict(case.path_parameters or {})
    if isinstance(case.body, dict) and case.operation.path.startswith("/api/v1/webhooks/wh"):
        case.body = {name: str(value) for name, value in case.body.items()}
    for caller, headers, path_parameters in _variants(case, fuzzed):
        case.path_parameters = {**generated, **path_parameters} if generated else None
        response = case.call(base_url=fuzzed.base_url, headers=headers)
        fuzzed.answers[(case.operation.path, caller, response.status_code)] += 1
        case.validate_response(response, headers=headers, excluded_checks=NOT_CHECKED,
                               additional_checks=[error_body_says_what_and_nothing_internal])
