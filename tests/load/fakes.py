"""The provider fakes as one process, for `fte up` under load: Gmail (the API, OAuth and the
OIDC certificates) and Twilio's Messages API, served for real on loopback ports.

    python -m tests.load.fakes OUT_DIR

writes OUT_DIR/fakes.env, the settings that point `fte up` at the fakes (`fte up --env-file
OUT_DIR/fakes.env`: GMAIL_*, TWILIO_*) and what a load client needs (FAKE_CONTROL_URL, the key
that signs the Pub/Sub pushes' OIDC tokens in FAKE_OIDC_KEY_FILE), then serves until SIGTERM.
The control API puts a customer's mail in the mailbox (`POST /mail`) and lists what the
product sent (`GET /sent`), so the load's check can count every delivery at the provider.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from production import settings_env
from production.config import Settings
from tests.fakes.gmail_api import FakeGmail, customer_mail
from tests.fakes.server import LocalServer
from tests.fakes.twilio_api import FakeTwilio

WHATSAPP_NUMBER = "+14155238886"


class Mail(BaseModel):
    sender: str
    subject: str
    body: str


def control_app(gmail: FakeGmail, twilio: FakeTwilio) -> FastAPI:
    app = FastAPI()

    @app.post("/mail")
    async def receive(mail: Mail) -> dict[str, Any]:
        """Deliver a customer's mail; return its ids and the push that announces it."""
        message = customer_mail(mail.sender, mail.subject, mail.body)
        gmail_id = gmail.receive(message)
        return {"gmail_id": gmail_id, "message_id": message["Message-ID"],
                "push": gmail.push()}

    @app.post("/outage")
    async def outage(seconds: float) -> dict[str, float]:
        """Twilio answers 503 to everything for `seconds`."""
        twilio.outage(seconds)
        return {"whatsapp_down_s": seconds}

    @app.get("/sent")
    async def sent() -> dict[str, Any]:
        """Every message the product sent, per provider, in order."""
        return {
            "whatsapp": [{"sid": s.sid, "to": s.to, "body": s.body} for s in twilio.sent],
            "email": [{"id": s.id, "to": s.message["To"], "in_reply_to":
                       s.message.get("In-Reply-To")} for s in gmail.sent],
        }

    return app


def product_settings(gmail: FakeGmail, twilio: FakeTwilio) -> dict[str, str]:
    """The environment that points the product's Gmail and Twilio clients at the fakes."""
    settings = Settings(
        gmail=gmail.settings(timeout_s=10.0),
        twilio=Settings().twilio.model_copy(update={
            "account_sid": twilio.account_sid, "auth_token": twilio.auth_token,
            "whatsapp_number": WHATSAPP_NUMBER, "api_base_url": twilio.base_url}))
    env = settings_env.settings_env(settings)
    return {name: value for name, value in env.items()
            if name.startswith(("GMAIL_", "TWILIO_"))}


def write_env(path: Path, values: dict[str, str]) -> None:
    """Write KEY='value' lines (single-quoted: the credentials are JSON)."""
    lines = [f"{name}='{value}'" for name, value in sorted(values.items())]
    path.write_text("\n".join(lines) + "\n")


async def serve(out: Path) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    out.mkdir(parents=True, exist_ok=True)
    with FakeGmail() as gmail:
        async with FakeTwilio() as twilio:
            control = LocalServer(control_app(gmail, twilio))
            port = await control.start()
            key_file = out / "oidc-key.pem"
            key_file.write_text(gmail.signing_key)
            env = product_settings(gmail, twilio)
            env.update(FAKE_CONTROL_URL=f"http://127.0.0.1:{port}",
                       FAKE_OIDC_KEY_FILE=str(key_file), FAKE_OIDC_KEY_ID=gmail.key_id)
            partial = out / "fakes.env.partial"
            write_env(partial, env)
            partial.rename(out / "fakes.env")  # whole, or not there yet
            print(json.dumps({"control": env["FAKE_CONTROL_URL"]}), flush=True)
            await stopping.wait()
            await control.stop()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
