"""A local HTTP fake of the Gmail API, Google's OAuth token endpoint and its OIDC certificates.

`FakeGmail` serves on a free loopback port from its own thread, so the real clients talk to it as
they would to Google: google-api-python-client (pointed at it with `client_options.api_endpoint`)
calls `/gmail/v1/users/{userId}/...` with a bearer token that google-auth got from `/token` (an
authorized-user refresh, or a service account's signed JWT assertion); the webhook's verifier
downloads `/oauth2/v1/certs` (key id -> X.509 PEM, as Google serves them).

    with FakeGmail() as fake:
        settings = settings.model_copy(update={"gmail": fake.settings()})
        gmail_id = fake.receive(customer_mail("Ada <ada@example.com>", "Export fails", "..."))
        headers = {"Authorization": f"Bearer {fake.sign_token()}"}
        await http.post("/api/v1/webhooks/gmail", json=fake.push(), headers=headers)
        fake.fail_next("messages.send", 500)   # the next send answers 500, then normal again
        fake.delay("messages.send", 2.0)       # every send answers after 2 s
        fake.forget_history()                  # history.list from any stored id: 404
        assert fake.sent[0].message["In-Reply-To"] == ...

Mailbox semantics the channel relies on: every added message (received or sent) is a history
record with a growing historyId; `history.list` returns records after startHistoryId, paged, with
the current historyId; a start older than the retained history answers 404; `messages.list`
understands `in:inbox`, `newer_than:Nd` and `rfc822msgid:` (a message by its Message-ID header);
sent mail gets the SENT label and joins the thread.
Every request is recorded (`requests`), with the status it got.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from google.auth import crypt, jwt
from pydantic import SecretStr

from production.config import GmailSettings

SUPPORT = "support@techcorp.example"
AUDIENCE = "https://fte.example/api/v1/webhooks/gmail"
PUSH_ACCOUNT = "gmail-push@techcorp-project.iam.gserviceaccount.com"
TOPIC = "projects/techcorp-project/topics/gmail-inbox"
ISSUER = "https://accounts.google.com"
WATCH_LIFETIME = dt.timedelta(days=7)

_STATUS_TEXT = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                503: "UNAVAILABLE"}
_MESSAGES = {400: "Invalid argument", 401: "Request had invalid authentication credentials.",
             403: "Insufficient Permission", 404: "Requested entity was not found.",
             429: "Too many concurrent requests for user.", 500: "Internal error encountered.",
             503: "The service is currently unavailable."}


def new_private_key() -> str:
    """Return a fresh RSA private key as PKCS#8 PEM (for a key that is not the fake's)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def oidc_token(key: str, key_id: str, *, audience: str = AUDIENCE, email: str = PUSH_ACCOUNT,
               issuer: str = ISSUER, email_verified: bool = True, expires_in: int = 3600) -> str:
    """An OIDC token as Pub/Sub puts on a push, signed by `key` (PEM) under `key_id`."""
    now = int(time.time())
    signer = crypt.RSASigner.from_string(key, key_id=key_id)
    payload = {"iss": issuer, "aud": audience, "azp": "1049", "sub": "1049",
               "email": email, "email_verified": email_verified,
               "iat": now - 5, "exp": now + expires_in}
    return jwt.encode(signer, payload).decode()


def _certificate(private_pem: str, name: str) -> str:
    """A self-signed X.509 certificate for the key, as Google's certs endpoint serves them."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def customer_mail(sender: str, subject: str, body: str, *, to: str = SUPPORT,
                  html: str | None = None, **headers: str) -> EmailMessage:
    """Return a customer's email as a mail client would build it (`X_Autoreply="yes"` style
    keyword arguments add headers)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain="mail.example.com")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


class _Mail:
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """The raw bytes parsed, as a mail client reads them."""
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Stored(_Mail):
    id: str
    thread_id: str
    labels: list[str]
    internal_date_ms: int
    raw: bytes
    history_id: int


@dataclass(frozen=True)
class Sent(_Mail):
    id: str
    thread_id: str
    requested_thread_id: str | None  # the threadId the client asked for
    raw: bytes


@dataclass(frozen=True)
class Recorded:
    operation: str
    method: str
    path: str
    query: dict[str, list[str]]
    status: int


@dataclass
class _Failures:
    pending: dict[str, list[int | str]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)


class FakeGmail:
    """The fake Google endpoints, served from a background thread while the `with` block runs."""

    def __init__(self, *, address: str = SUPPORT, page_size: int = 100) -> None:
        self.address = address
        self.page_size = page_size
        self.client_id = "fake-client-id.apps.googleusercontent.com"
        self.client_secret = "fake-client-secret"
        self.refresh_token = f"1//fake-refresh-{uuid.uuid4().hex[:8]}"
        self.key_id = "fake-oidc-key-1"
        self.signing_key = new_private_key()  # signs the OIDC tokens of pushes
        self.service_account_key = new_private_key()  # the service account's own key
        self.certs_max_age = 3600
        self.messages: dict[str, Stored] = {}
        self.history: list[tuple[int, str]] = []  # (historyId, message id), in order
        self._added: dict[str, tuple[str, list[str]]] = {}  # id -> (thread, labels), kept on delete
        self._threads: dict[str, str] = {}  # id -> thread of the messages still there
        self._by_message_id: dict[str, str] = {}  # Message-ID header -> id
        self.history_id = 4_100
        self.oldest_history_id = 0  # a startHistoryId below this answers 404
        self.sent: list[Sent] = []
        self.watches: list[dict[str, Any]] = []
        self.requests: list[Recorded] = []
        self.tokens: set[str] = set()
        self.token_grants: list[dict[str, str]] = []
        self._failures = _Failures()
        self._lock = threading.Lock()
        self._next_id = 0x18F3A2B400000000
        self._certificate = _certificate(self.signing_key, "fake-google-oidc")
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""  # http://127.0.0.1:PORT/ once started

    # --- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> FakeGmail:
        config = uvicorn.Config(self._app(), host="127.0.0.1", port=0, log_level="warning",
                                access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-gmail", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake Gmail server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/"
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)

    # --- what the product is configured with ---------------------------------------------

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}token"

    @property
    def certs_url(self) -> str:
        return f"{self.base_url}oauth2/v1/certs"

    def credentials_json(self, kind: str = "authorized_user") -> str:
        """The GMAIL_CREDENTIALS_JSON document of either supported kind."""
        if kind == "service_account":
            return json.dumps({
                "type": "service_account", "project_id": "techcorp-project",
                "private_key_id": "sa-key-1", "private_key": self.service_account_key,
                "client_email": "fte-mail@techcorp-project.iam.gserviceaccount.com",
                "client_id": "1234567890", "token_uri": self.token_uri})
        return json.dumps({"type": "authorized_user", "client_id": self.client_id,
                           "client_secret": self.client_secret,
                           "refresh_token": self.refresh_token, "token_uri": self.token_uri})

    def settings(self, **overrides: Any) -> GmailSettings:
        """GmailSettings that point every Google endpoint at this fake."""
        values: dict[str, Any] = {
            "credentials_json": SecretStr(self.credentials_json()),
            "support_address": self.address, "api_base_url": self.base_url,
            "token_uri": self.token_uri,
            "pubsub_audience": AUDIENCE, "pubsub_service_account": PUSH_ACCOUNT,
            "oidc_issuers": ["accounts.google.com", ISSUER], "oidc_certs_url": self.certs_url,
            "pubsub_topic": TOPIC, "timeout_s": 5.0,
        }
        values.update(overrides)
        return GmailSettings(**values)

    # --- what Google would send ---------------------------------------------------------

    def sign_token(self, *, audience: str = AUDIENCE, email: str = PUSH_ACCOUNT,
                   issuer: str = ISSUER, email_verified: bool = True, expires_in: int = 3600,
                   key: str | None = None, key_id: str | None = None) -> str:
        """An OIDC token as Pub/Sub puts on a push (signed by the fake's key unless `key`)."""
        return oidc_token(key or self.signing_key, key_id or self.key_id, audience=audience,
                          email=email, issuer=issuer, email_verified=email_verified,
                          expires_in=expires_in)

    def push(self, *, history_id: int | None = None, email: str | None = None) -> dict[str, Any]:
        """The Pub/Sub push envelope of a Gmail notification for this mailbox."""
        data = {"emailAddress": email or self.address,
                "historyId": self.history_id if history_id is None else history_id}
        pubsub_id = str(uuid.uuid4().int)[:16]
        return {"message": {"data": base64.b64encode(json.dumps(data).encode()).decode(),
                            "messageId": pubsub_id, "message_id": pubsub_id,
                            "publishTime": dt.datetime.now(dt.UTC).isoformat()},
                "subscription": "projects/techcorp-project/subscriptions/gmail-push"}

    # --- the mailbox ---------------------------------------------------------------------

    def receive(self, mail: EmailMessage | bytes, *, labels: tuple[str, ...] = ("INBOX", "UNREAD"),
                age: dt.timedelta = dt.timedelta(0)) -> str:
        """Deliver a mail to the mailbox; return its Gmail message id."""
        raw = mail if isinstance(mail, bytes) else mail.as_bytes()
        with self._lock:
            return self._add(raw, list(labels), thread_id=None, age=age).id

    def delete(self, gmail_id: str) -> None:
        """Delete a message for good (its history record stays, as in Gmail)."""
        with self._lock:
            del self.messages[gmail_id]
            del self._threads[gmail_id]

    def forget_history(self) -> None:
        """Gmail keeps history for a limited time: from now on, a start before the current
        historyId is a 404 (the current one, as users.getProfile gives it, still works)."""
        with self._lock:
            self.oldest_history_id = self.history_id

    def fail_next(self, operation: str, *modes: int | str) -> None:
        """Answer the next `operation` requests ("messages.send", "history.list", "token",
        ...) with these statuses, one each ("ok" lets one through), then normally again."""
        with self._lock:
            self._failures.pending.setdefault(operation, []).extend(modes)

    def delay(self, operation: str, seconds: float) -> None:
        """Answer every `operation` request only after `seconds` (0 to stop)."""
        with self._lock:
            self._failures.delays[operation] = seconds

    def calls(self, operation: str) -> list[Recorded]:
        return [r for r in self.requests if r.operation == operation]

    def _add(self, raw: bytes, labels: list[str], *, thread_id: str | None,
             age: dt.timedelta) -> Stored:
        self._next_id += 0x1F3
        gmail_id = f"{self._next_id:016x}"
        self.history_id += 7
        parsed = message_from_bytes(raw, policy=policy.default)
        if thread_id is None or thread_id not in self._threads.values():
            thread_id = self._thread_of(parsed) or gmail_id
        stored = Stored(id=gmail_id, thread_id=thread_id, labels=labels,
                        internal_date_ms=int((time.time() - age.total_seconds()) * 1000),
                        raw=raw, history_id=self.history_id)
        self.messages[gmail_id] = stored
        self._threads[gmail_id] = thread_id
        if message_id := parsed.get("Message-ID"):
            self._by_message_id[str(message_id)] = gmail_id
        self._added[gmail_id] = (thread_id, labels)
        self.history.append((self.history_id, gmail_id))
        return stored

    def _thread_of(self, parsed: Any) -> str | None:
        """Gmail threads a message with the one its In-Reply-To/References name (looked up by
        Message-ID: a mailbox under load holds thousands)."""
        wanted = f"{parsed.get('In-Reply-To', '')} {parsed.get('References', '')}".split()
        for message_id in wanted:
            gmail_id = self._by_message_id.get(message_id)
            if gmail_id is not None and gmail_id in self.messages:
                return self.messages[gmail_id].thread_id
        return None

    # --- the HTTP side -------------------------------------------------------------------

    def _app(self) -> FastAPI:
        app = FastAPI()
        users = "/gmail/v1/users/{user_id}"

        @app.post("/token")
        async def token(request: Request) -> Response:
            form = dict((await request.form()).items())
            return await self._answer(request, "token", lambda: self._token(
                {k: str(v) for k, v in form.items()}), authenticate=False)

        @app.get("/oauth2/v1/certs")
        async def certs(request: Request) -> Response:
            return await self._answer(request, "certs", lambda: JSONResponse(
                {self.key_id: self._certificate},
                headers={"Cache-Control": f"public, max-age={self.certs_max_age}"}),
                authenticate=False)

        @app.get(users + "/profile")
        async def profile(request: Request, user_id: str) -> Response:
            return await self._answer(request, "profile", lambda: JSONResponse({
                "emailAddress": self.address, "messagesTotal": len(self.messages),
                "threadsTotal": len({m.thread_id for m in self.messages.values()}),
                "historyId": str(self.history_id)}), user_id=user_id)

        @app.get(users + "/history")
        async def history(request: Request, user_id: str) -> Response:
            return await self._answer(request, "history.list",
                                      lambda: self._history(request), user_id=user_id)

        @app.get(users + "/messages")
        async def list_messages(request: Request, user_id: str) -> Response:
            return await self._answer(request, "messages.list",
                                      lambda: self._list(request), user_id=user_id)

        @app.get(users + "/messages/{message_id}")
        async def get_message(request: Request, user_id: str, message_id: str) -> Response:
            return await self._answer(request, "messages.get",
                                      lambda: self._get(request, message_id), user_id=user_id)

        @app.post(users + "/messages/send")
        async def send(request: Request, user_id: str) -> Response:
            body = await _json(request)
            return await self._answer(request, "messages.send", lambda: self._send(body),
                                      user_id=user_id)

        @app.post(users + "/watch")
        async def watch(request: Request, user_id: str) -> Response:
            body = await _json(request)
            return await self._answer(request, "watch", lambda: self._watch(body),
                                      user_id=user_id)

        return app

    async def _answer(self, request: Request, operation: str, build: Any, *,
                      authenticate: bool = True, user_id: str | None = None) -> Response:
        with self._lock:
            delay = self._failures.delays.get(operation, 0.0)
            queue = self._failures.pending.get(operation) or []
            mode = queue.pop(0) if queue else "ok"
        if delay:
            await asyncio.sleep(delay)
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if authenticate and given not in self.tokens:
            answer: Response = _error(401)
        elif user_id is not None and user_id not in ("me", self.address):
            answer = _error(403, "Delegation denied for " + user_id)
        elif mode != "ok":
            answer = _error(int(mode))
        else:
            with self._lock:
                answer = build()
        self.requests.append(Recorded(operation, request.method, request.url.path,
                                      _query(request), answer.status_code))
        return answer

    def _token(self, form: dict[str, str]) -> Response:
        self.token_grants.append(form)
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if (form.get("client_id"), form.get("client_secret"), form.get("refresh_token")) != \
                    (self.client_id, self.client_secret, self.refresh_token):
                return JSONResponse({"error": "invalid_grant", "error_description": "Bad Request"},
                                    status_code=400)
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            public = _certificate(self.service_account_key, "sa")
            try:
                # google-auth addresses the assertion to Google's endpoint, wherever it posts it
                claims = jwt.decode(form.get("assertion", ""), certs=public,
                                    audience="https://oauth2.googleapis.com/token")
            except ValueError as exc:
                return JSONResponse({"error": "invalid_grant", "error_description": str(exc)},
                                    status_code=400)
            if claims.get("sub") != self.address or "gmail" not in str(claims.get("scope")):
                return JSONResponse({"error": "unauthorized_client",
                                     "error_description": "Client is unauthorized to retrieve "
                                     "access tokens using this method."}, status_code=401)
        else:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        token = f"ya29.fake-{uuid.uuid4().hex}"
        self.tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": 3599, "token_type": "Bearer",
                             "scope": "https://www.googleapis.com/auth/gmail.modify"})

    def _history(self, request: Request) -> Response:
        query = request.query_params
        try:
            start = int(query.get("startHistoryId", ""))
        except ValueError:
            return _error(400, "Invalid startHistoryId")
        if start < self.oldest_history_id:
            return _error(404)
        types = query.getlist("historyTypes")
        records = [(hid, mid) for hid, mid in self.history if hid > start]
        if types and "messageAdded" not in types:
            records = []
        offset = int(query.get("pageToken") or 0)
        size = min(int(query.get("maxResults") or 100), self.page_size)
        page = records[offset:offset + size]
        body: dict[str, Any] = {"historyId": str(self.history_id)}
        if page:
            body["history"] = [
                {"id": str(hid), "messages": [self._ref(mid)],
                 "messagesAdded": [{"message": {**self._ref(mid),
                                                "labelIds": self._added[mid][1]}}]}
                for hid, mid in page]
        if offset + size < len(records):
            body["nextPageToken"] = str(offset + size)
        return JSONResponse(body)

    def _list(self, request: Request) -> Response:
        query = request.query_params
        terms = (query.get("q") or "").split()
        found = sorted(self.messages.values(), key=lambda m: (m.internal_date_ms, m.id),
                       reverse=True)
        for term in terms:
            if term == "in:inbox":
                found = [m for m in found if "INBOX" in m.labels]
            elif term.startswith("newer_than:") and term.endswith("d"):
                cutoff = (time.time() - int(term[11:-1]) * 86_400) * 1000
                found = [m for m in found if m.internal_date_ms >= cutoff]
            elif term.startswith("rfc822msgid:"):  # with or without its angle brackets
                wanted = self._by_message_id.get(f"<{term[12:].strip('<>')}>")
                found = [m for m in found if m.id == wanted]
        offset = int(query.get("pageToken") or 0)
        size = min(int(query.get("maxResults") or 100), 500)
        page = found[offset:offset + size]
        body: dict[str, Any] = {"resultSizeEstimate": len(found)}
        if page:
            body["messages"] = [self._ref(m.id) for m in page]
        if offset + size < len(found):
            body["nextPageToken"] = str(offset + size)
        return JSONResponse(body)

    def _get(self, request: Request, message_id: str) -> Response:
        stored = self.messages.get(message_id)
        if stored is None:
            return _error(404)
        if request.query_params.get("format") != "raw":
            return _error(400, "the fake serves format=raw only")
        return JSONResponse({
            "id": stored.id, "threadId": stored.thread_id, "labelIds": stored.labels,
            "snippet": "", "historyId": str(stored.history_id),
            "internalDate": str(stored.internal_date_ms), "sizeEstimate": len(stored.raw),
            "raw": base64.urlsafe_b64encode(stored.raw).decode()})

    def _send(self, body: dict[str, Any]) -> Response:
        try:
            raw = base64.urlsafe_b64decode(body["raw"] + "=" * (-len(body["raw"]) % 4))
        except (KeyError, TypeError, ValueError):
            return _error(400, "'raw' RFC822 payload message string or uploading message via "
                               "/upload/* URL required")
        parsed = message_from_bytes(raw, policy=policy.default)
        recipients = [a.addr_spec for name in ("To", "Cc", "Bcc") if parsed.get(name)
                      for a in parsed[name].addresses]
        if not recipients:
            return _error(400, "Recipient address required")
        if not all("@" in r for r in recipients):
            return _error(400, "Invalid To header")
        requested = body.get("threadId")
        stored = self._add(raw, ["SENT"], thread_id=requested, age=dt.timedelta(0))
        self.sent.append(Sent(stored.id, stored.thread_id, requested, raw))
        return JSONResponse({"id": stored.id, "threadId": stored.thread_id,
                             "labelIds": ["SENT"]})

    def _watch(self, body: dict[str, Any]) -> Response:
        if not body.get("topicName"):
            return _error(400, "Invalid topicName")
        self.watches.append(body)
        expiration = dt.datetime.now(dt.UTC) + WATCH_LIFETIME
        return JSONResponse({"historyId": str(self.history_id),
                             "expiration": str(int(expiration.timestamp() * 1000))})

    def _ref(self, message_id: str) -> dict[str, str]:
        return {"id": message_id, "threadId": self._added[message_id][0]}


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _query(request: Request) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        result.setdefault(key, []).append(value)
    return result


def _error(status: int, message: str | None = None) -> JSONResponse:
    """Google's JSON error body."""
    text = message or _MESSAGES.get(status, "Error")
    reason = {429: "rateLimitExceeded", 404: "notFound", 401: "authError"}.get(status, "failed")
    return JSONResponse({"error": {"code": status, "message": text,
                                   "errors": [{"message": text, "domain": "global",
                                               "reason": reason}],
                                   "status": _STATUS_TEXT.get(status, "UNKNOWN")}},
                        status_code=status)
