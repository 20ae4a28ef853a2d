"""Customers on the three channels, against `fte up` running on the provider fakes.

- `WebFormCustomer`: submits the support form (retrying a failed submit with the same
  Idempotency-Key, as the web form does), then polls the ticket with its access token until
  the agent's reply is there ("web: reply seen" is the time from submit to reply).
- `WhatsAppCustomer`: a burst of 1-3 messages, as people type, each a Twilio-signed webhook.
- `EmailCustomer`: a mail into the fake Gmail mailbox, then the Pub/Sub push announcing it,
  with an OIDC token signed by the fake Google's key (redelivered on a 5xx, as Pub/Sub does).

Every customer is new (its own email address or phone number, its own client address behind
the trusted proxy 127.0.0.1), so each message or burst gets one reply. Every message the API
accepted is appended to LOAD_SENT_FILE (JSON lines) for the check that follows the run
(tests/load/check.py). LOAD_ENV_FILE is the fakes' env file (tests/load/fakes.py).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import gevent
import phonenumbers
from dotenv import dotenv_values
from locust import HttpUser, between, constant_pacing, events, task

from tests.fakes.gmail_api import oidc_token
from tests.fakes.twilio_api import inbound_form, sign

ENV = {k: v or "" for k, v in dotenv_values(os.environ["LOAD_ENV_FILE"]).items()}
SENT_FILE = Path(os.environ["LOAD_SENT_FILE"])
RUN = os.environ.get("LOAD_RUN_ID", uuid.uuid4().hex[:6])
REPLY_WAIT_S = float(os.environ.get("LOAD_REPLY_WAIT_S", "120"))
# A steady rate (the soak, tests/load/soak.py): each user starts its task every PACING_S
# seconds (a web customer's includes polling for the reply), instead of a random think time.
PACING_S = float(os.environ.get("LOAD_PACING_S") or 0)
OIDC_KEY = Path(ENV["FAKE_OIDC_KEY_FILE"]).read_text()

QUESTIONS = [
    "How do I reset my password? The email never arrives.",
    "How can I export my project data as CSV for our auditors?",
    "What is the API rate limit? We keep getting HTTP 429 responses.",
    "How do I enable two-factor authentication for my whole team?",
    "Slack stopped posting project updates to our channel, how do I reconnect it?",
    "Can I invite a guest who only sees one project?",
]
FOLLOW_UPS = ["It is for our team workspace.", "We use the web app."]
CATEGORIES = ["general", "technical", "account"]

_lock = threading.Lock()
_numbers = itertools.count(random.randrange(10_000))
_clients = itertools.count(1)


def _record(channel: str, external_id: str, customer: str) -> None:
    with _lock, SENT_FILE.open("a") as out:
        out.write(json.dumps({"channel": channel, "external_id": external_id,
                              "customer": customer}) + "\n")


def _phone() -> str:
    """A valid US mobile-style number this run has not used."""
    while True:
        n = next(_numbers)
        candidate = f"+1415{200 + (n // 10_000) % 700:03d}{n % 10_000:04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate


def _think(low: float, high: float) -> Any:
    return constant_pacing(PACING_S) if PACING_S else between(low, high)


def _client_address() -> str:
    n = next(_clients)
    return f"198.18.{(n // 250) % 250}.{n % 250 + 1}"


def _reply_seen(started: float, *, failed: str | None = None) -> None:
    events.request.fire(request_type="E2E", name="web: reply seen",
                        response_time=(time.monotonic() - started) * 1000, response_length=0,
                        exception=RuntimeError(failed) if failed else None, context={})


class Customer(HttpUser):
    abstract = True

    def on_start(self) -> None:
        self.address = _client_address()

    def post_retrying(self, path: str, *, name: str, attempts: int = 4,
                      **kwargs: Any) -> Any:
        """POST, retrying a 5xx or a dropped connection (same body, same key) a few times."""
        headers = {"X-Forwarded-For": self.address, **kwargs.pop("headers", {})}
        for attempt in range(attempts):
            with self.client.post(path, name=name, headers=headers, catch_response=True,
                                  **kwargs) as res:
                if res.status_code and res.status_code < 500:
                    if res.status_code >= 400:
                        res.failure(f"{res.status_code}: {res.text[:200]}")
                    return res
                res.failure(f"{res.status_code}: {res.text[:200]}")
            gevent.sleep(0.5 * 2 ** attempt)
        return None


# Think times: a customer writes again after a while, not every second. Each user is a
# stream of new customers; 120 users offer about five messages a second all told.
class WebFormCustomer(Customer):
    weight = 4
    wait_time = _think(10, 20)

    @task
    def ask(self) -> None:
        email = f"web.{RUN}.{uuid.uuid4().hex[:10]}@load.example.com"
        key = f"load-{uuid.uuid4()}"
        started = time.monotonic()
        res = self.post_retrying(
            "/api/v1/support/form", name="web: submit", headers={"Idempotency-Key": key},
            json={"name": "Load Customer", "email": email,
                  "subject": f"Load question {key[-6:]}",
                  "category": random.choice(CATEGORIES), "priority": "medium",
                  "message": random.choice(QUESTIONS)})
        if res is None or res.status_code not in (200, 201):
            return
        receipt = res.json()
        _record("web_form", key, email)
        auth = {"Authorization": f"Bearer {receipt['access_token']}",
                "X-Forwarded-For": self.address}
        while time.monotonic() - started < REPLY_WAIT_S:
            gevent.sleep(1.0)
            with self.client.get(f"/api/v1/tickets/{receipt['ticket_id']}", headers=auth,
                                 name="web: poll ticket", catch_response=True) as poll:
                if poll.status_code != 200:
                    poll.failure(f"{poll.status_code}: {poll.text[:200]}")
                    continue
                if any(m["author"] == "agent" for m in poll.json()["messages"]):
                    _reply_seen(started)
                    return
        _reply_seen(started, failed="no reply seen in time")


class WhatsAppCustomer(Customer):
    weight = 3
    wait_time = _think(15, 45)

    @task
    def burst(self) -> None:
        phone = _phone()
        url = f"{self.host}/api/v1/webhooks/whatsapp"
        parts = [random.choice(QUESTIONS), *random.sample(FOLLOW_UPS, random.randint(0, 2))]
        for index, text in enumerate(parts):
            form = inbound_form(ENV["TWILIO_ACCOUNT_SID"], sender=phone, body=text,
                                to=ENV["TWILIO_WHATSAPP_NUMBER"], profile_name="Load Customer")
            signature = sign(ENV["TWILIO_AUTH_TOKEN"], url, form)
            res = self.post_retrying("/api/v1/webhooks/whatsapp", name="whatsapp: message",
                                     data=form, headers={"X-Twilio-Signature": signature})
            if res is not None and res.status_code == 200:
                _record("whatsapp", form["MessageSid"], phone)
            if index < len(parts) - 1:
                gevent.sleep(random.uniform(0.2, 1.2))  # typing the next one


class EmailCustomer(Customer):
    weight = 3
    wait_time = _think(15, 45)

    @task
    def write(self) -> None:
        address = f"mail.{RUN}.{uuid.uuid4().hex[:10]}@load.example.com"
        with self.client.post(f"{ENV['FAKE_CONTROL_URL']}/mail", name="email: into the mailbox",
                              json={"sender": f"Load Customer <{address}>",
                                    "subject": "Question about my account",
                                    "body": random.choice(QUESTIONS)},
                              catch_response=True) as res:
            if res.status_code != 200:
                res.failure(f"{res.status_code}")
                return
            mail = res.json()
        token = oidc_token(OIDC_KEY, ENV["FAKE_OIDC_KEY_ID"],
                           audience=ENV["GMAIL_PUBSUB_AUDIENCE"],
                           email=ENV["GMAIL_PUBSUB_SERVICE_ACCOUNT"])
        self.post_retrying("/api/v1/webhooks/gmail", name="email: pub/sub push",
                           json=mail["push"], headers={"Authorization": f"Bearer {token}"})
        # The mail is in the mailbox either way: a later push (anyone's) syncs it.
        _record("email", mail["gmail_id"], address)
