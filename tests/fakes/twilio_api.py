"""A local HTTP fake of Twilio's Messages API, and Twilio's side of the webhooks.

`FakeTwilio` serves `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` on a free loopback
port in the test's event loop, so the real `twilio` client talks to it as it would to
api.twilio.com: HTTP basic auth with the account SID and auth token, a form body, a 201 with the
message resource as JSON, and Twilio's error JSON (`code`, `message`, `more_info`, `status`).
Every request is recorded; `sent` lists the messages it accepted, in order. `GET` on the same
path lists them as Twilio does: newest first, filtered by `To`, `From` and the day sent
(`DateSent`, `DateSent>=`, `DateSent<=`, dates or date-times, compared by their day), paged
(`PageSize`, `Page`).

    async with FakeTwilio() as fake:
        # point TWILIO_API_BASE_URL at fake.base_url, TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN at
        # fake.account_sid / fake.auth_token
        fake.fail_next("ok", 500)   # the next request succeeds, the one after answers 500
        fake.fail_next(429, to="whatsapp:+447911123456")  # only requests to this address
        fake.fail_next("timeout", "lost")  # accepted after slow_s; never accepted (after slow_s)
        fake.on_accept = hook   # awaited with each accepted message before it is answered
        ...
        assert fake.sent[0].to == "whatsapp:+447911123456"

`inbound_form`, `status_form` and `sign` build what Twilio posts to our webhooks and the
`X-Twilio-Signature` it puts on them (with the library's own `RequestValidator`).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any

import phonenumbers
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from twilio.request_validator import RequestValidator

from tests.fakes.server import LocalServer

API_VERSION = "2010-04-01"
BODY_LIMIT = 1600

# Failure modes for `fail_next`: a status code, "timeout" (accepts, and answers after `slow_s`),
# "lost" (answers 500 after `slow_s`, having accepted nothing: a client that gave up before
# cannot tell it from "timeout"), "ok".
_ERRORS: dict[int | str, tuple[int, int, str]] = {  # mode: (status, Twilio code, message)
    500: (500, 20500, "An internal server error has occurred"),
    503: (503, 20503, "Service unavailable"),
    429: (429, 20429, "Too Many Requests"),
    400: (400, 21211, "Invalid 'To' Phone Number: {to}"),
    21211: (400, 21211, "Invalid 'To' Phone Number: {to}"),
    21610: (400, 21610, "Attempt to send to unsubscribed recipient"),
}


@dataclass(frozen=True)
class Sent:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass(frozen=True)
class Recorded:
    path: str
    status: int
    form: dict[str, str]  # the POST's form, or the GET's query
    method: str = "POST"


@dataclass
class FakeTwilio:
    """The fake API server, running while the `async with` block runs."""

    account_sid: str = field(default_factory=lambda: "AC" + uuid.uuid4().hex)
    auth_token: str = field(default_factory=lambda: uuid.uuid4().hex)
    slow_s: float = 2.0  # how long a "timeout" failure takes to answer
    sent: list[Sent] = field(default_factory=list)
    recorded: list[Recorded] = field(default_factory=list)
    base_url: str = ""  # http://127.0.0.1:PORT once started
    on_accept: Callable[[Sent], Awaitable[None]] | None = None
    _outcomes: dict[str | None, list[int | str]] = field(default_factory=dict)
    _server: LocalServer | None = None
    _outage_until: float = 0.0

    def outage(self, seconds: float) -> None:
        """Answer every request 503 for the next `seconds` (a provider outage)."""
        self._outage_until = time.monotonic() + seconds

    def fail_next(self, *outcomes: int | str, to: str | None = None) -> None:
        """Answer the next requests (to the address `to`, or any) with these outcomes, one
        each, then normally again. Scoping by address keeps other senders sharing the fake
        (a running dispatcher) from taking a failure meant for one test.

        An outcome is an HTTP status (500, 503, 429, 400 = error 21211), a Twilio error code
        (21211, 21610), "timeout" (accept, answer only after `slow_s`), "lost" (accept
        nothing, answer 500 after `slow_s`) or "ok" (answer normally). Only sends take them.
        """
        for outcome in outcomes:
            if outcome not in _ERRORS and outcome not in ("timeout", "lost", "ok"):
                raise ValueError(f"unknown failure mode {outcome!r}")
        self._outcomes.setdefault(to, []).extend(outcomes)

    def bodies_to(self, to: str) -> list[str]:
        """Return the bodies of the accepted messages to one address, in order."""
        return [s.body for s in self.sent if s.to == to]

    async def __aenter__(self) -> FakeTwilio:
        self._server = LocalServer(self._app())
        port = await self._server.start()
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        await self._server.stop()

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post(f"/{API_VERSION}/Accounts/{{account}}/Messages.json")
        async def create_message(account: str, request: Request) -> JSONResponse:
            form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
            answer = await self._create(account, request.headers.get("authorization", ""), form)
            self.recorded.append(Recorded(request.url.path, answer.status_code, form))
            return answer

        @app.get(f"/{API_VERSION}/Accounts/{{account}}/Messages.json")
        async def list_messages(account: str, request: Request) -> JSONResponse:
            query = dict(request.query_params.items())
            if not self._authorized(account, request.headers.get("authorization", "")):
                answer = _error(401, 20003, "Authenticate")
            elif time.monotonic() < self._outage_until:
                answer = _error(*_ERRORS[503])
            else:
                answer = self._list(account, query, request.url.path)
            self.recorded.append(Recorded(request.url.path, answer.status_code, query, "GET"))
            return answer

        return app

    def _list(self, account: str, query: dict[str, str], path: str) -> JSONResponse:
        """One page of the account's messages, newest first, as Twilio's list answers."""
        try:
            days = {op: dt.date.fromisoformat(query[key][:10]) for op, key in
                    (("=", "DateSent"), (">=", "DateSent>"), ("<=", "DateSent<"))
                    if query.get(key)}
            size = min(int(query.get("PageSize") or 50), 1000)
            page = int(query.get("Page") or 0)
        except ValueError:
            return _error(400, 20001, "Invalid DateSent, PageSize or Page")
        found = [s for s in reversed(self.sent) if s.account_sid == account
                 and query.get("To") in (None, s.to) and query.get("From") in (None, s.from_)
                 and _on_days(s.created_at.date(), days)]
        body: dict[str, Any] = {
            "messages": [_resource(s.sid, account, {"To": s.to, "From": s.from_,
                                                    "Body": s.body}, created=s.created_at,
                                   listed=True)
                         for s in found[page * size:(page + 1) * size]],
            "page": page, "page_size": size, "start": page * size,
            "end": max(page * size, min(len(found), (page + 1) * size) - 1),
            "uri": path, "first_page_uri": f"{path}?PageSize={size}&Page=0",
            "previous_page_uri": None, "next_page_uri": None}
        if (page + 1) * size < len(found):
            body["next_page_uri"] = f"{path}?PageSize={size}&Page={page + 1}"
        return JSONResponse(body)

    async def _create(self, account: str, authorization: str,
                      form: dict[str, str]) -> JSONResponse:
        if not self._authorized(account, authorization):
            return _error(401, 20003, "Authenticate")
        if time.monotonic() < self._outage_until:
            return _error(*_ERRORS[503])
        queue = self._outcomes.get(form.get("To")) or self._outcomes.get(None) or ["ok"]
        outcome = queue.pop(0)
        if outcome in ("timeout", "lost"):
            await asyncio.sleep(self.slow_s)
            if outcome == "lost":
                return _error(*_ERRORS[500])
        elif outcome != "ok":
            status, code, message = _ERRORS[outcome]
            return _error(status, code, message.format(to=form.get("To", "")))
        if problem := _refusal(form):
            return _error(400, *problem)
        sid = "SM" + uuid.uuid4().hex
        sent = Sent(sid=sid, account_sid=account, to=form["To"], from_=form["From"],
                    body=form["Body"], status_callback=form.get("StatusCallback"))
        self.sent.append(sent)
        if self.on_accept is not None:
            await self.on_accept(sent)
        return JSONResponse(_resource(sid, account, form, created=sent.created_at),
                            status_code=201)

    def _authorized(self, account: str, authorization: str) -> bool:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return user == account == self.account_sid and password == self.auth_token


def _refusal(form: dict[str, str]) -> tuple[int, str] | None:
    """Return Twilio's (code, message) for a request it would refuse, or None."""
    to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
    if not to:
        return 21604, "A 'To' phone number is required."
    if not sender:
        return 21603, "A 'From' phone number is required."
    if not _whatsapp_address(to):
        return 21211, f"Invalid 'To' Phone Number: {to}"
    if not _whatsapp_address(sender):
        return 63007, "Twilio could not find a Channel with the specified From address"
    if not body:
        return 21602, "Message body is required."
    if len(body) > BODY_LIMIT:
        return 21617, "The concatenated message body exceeds the 1600 character limit."
    return None


def _whatsapp_address(address: str) -> bool:
    if not address.startswith("whatsapp:+"):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(address[len("whatsapp:"):]))
    except phonenumbers.NumberParseException:
        return False


def _on_days(day: dt.date, days: dict[str, dt.date]) -> bool:
    """Whether a message sent on `day` passes the DateSent filters (by operator)."""
    return (("=" not in days or day == days["="]) and (">=" not in days or day >= days[">="])
            and ("<=" not in days or day <= days["<="]))


def _resource(sid: str, account: str, form: dict[str, str], *, created: dt.datetime,
              listed: bool = False) -> dict[str, Any]:
    """The message resource: queued when it is created; as listed later, sent (the fake sends
    at once, so at the instant it was created)."""
    when = format_datetime(created.replace(microsecond=0), usegmt=True)
    return {
        "sid": sid, "account_sid": account, "api_version": API_VERSION,
        "to": form["To"], "from": form["From"], "body": form["Body"],
        "status": "sent" if listed else "queued",
        "direction": "outbound-api", "num_segments": "1", "num_media": "0", "price": None,
        "price_unit": "USD", "error_code": None, "error_message": None,
        "messaging_service_sid": None, "date_created": when, "date_updated": when,
        "date_sent": when if listed else None,
        "uri": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}.json",
        "subresource_uris": {
            "media": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}/Media.json"},
    }


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message,
                         "more_info": f"https://www.twilio.com/docs/errors/{code}",
                         "status": status}, status_code=status)


def sign(auth_token: str, url: str, form: dict[str, str]) -> str:
    """Return the X-Twilio-Signature Twilio puts on a webhook it posts to `url`."""
    signature: str = RequestValidator(auth_token).compute_signature(url, form)
    return signature


def inbound_form(account_sid: str, *, sender: str, body: str = "",
                 to: str = "+14155238886", sid: str | None = None,
                 profile_name: str | None = "Ada Lovelace",
                 media: tuple[str, ...] = ()) -> dict[str, str]:
    """Return the form Twilio posts for one WhatsApp message from `sender` (E.164)."""
    sid = sid or "SM" + uuid.uuid4().hex
    form = {
        "SmsMessageSid": sid, "MessageSid": sid, "SmsSid": sid, "AccountSid": account_sid,
        "MessagingServiceSid": "", "From": f"whatsapp:{sender}", "To": f"whatsapp:{to}",
        "Body": body, "NumMedia": str(len(media)), "NumSegments": "1", "SmsStatus": "received",
        "ApiVersion": API_VERSION, "WaId": sender.lstrip("+"), "MessageType":
        "image" if media and not body else "text", "ReferralNumMedia": "0",
    }
    if profile_name is not None:
        form["ProfileName"] = profile_name
    for index, content_type in enumerate(media):
        form[f"MediaContentType{index}"] = content_type
        form[f"MediaUrl{index}"] = (f"https://api.twilio.com/{API_VERSION}/Accounts/"
                                    f"{account_sid}/Messages/{sid}/Media/ME{uuid.uuid4().hex}")
    return form


def status_form(account_sid: str, *, sid: str, status: str, to: str = "+447911123456",
                error_code: str | None = None) -> dict[str, str]:
    """Return the form Twilio posts to a status callback URL."""
    form = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": account_sid, "From": "whatsapp:+14155238886", "To": f"whatsapp:{to}",
            "ApiVersion": API_VERSION, "ChannelPrefix": "whatsapp"}
    if error_code is not None:
        form["ErrorCode"] = error_code
    return form
