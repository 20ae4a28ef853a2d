"""Twilio's WhatsApp webhooks: inbound messages and delivery status callbacks.

Both authenticate the sender first (`X-Twilio-Signature`, computed by Twilio over the URL it
called and the form fields), so a forged request stores nothing. The URL is rebuilt from the
configured public URL: behind an ingress, the host and scheme this process sees are not the
ones Twilio signed.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, HTTPException, Request, Response
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from production.api.deps import Db, state
from production.domain import whatsapp
from production.services import whatsapp_status
from production.services.intake import accept_inbound

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/v1/webhooks/whatsapp", tags=["whatsapp"])

SIGNATURE_HEADER = "X-Twilio-Signature"
# Twilio sends nothing back to the customer for an empty response; the reply comes later.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _form_body(fields: dict[str, str], required: list[str]) -> dict[str, object]:
    """The OpenAPI request body of a Twilio webhook: a form of text fields (read by hand,
    after the signature check, so FastAPI does not declare it)."""
    properties = {name: {"type": "string", "description": text} for name, text in fields.items()}
    return {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
        "schema": {"type": "object", "properties": properties, "required": required}}}}}


_MESSAGE_FIELDS = {
    "MessageSid": "Twilio's id of the message (SM...)", "AccountSid": "the account (AC...)",
    "From": "whatsapp:+<the customer's number>", "To": "whatsapp:+<our number>",
    "Body": "the text", "NumMedia": "attachments", "ProfileName": "the customer's name",
    "WaId": "the customer's WhatsApp id", "MediaContentType0": "the first attachment's type",
}
_STATUS_FIELDS = {
    "MessageSid": "the reply part's id (SM...)", "MessageStatus": "queued, sent, delivered...",
    "ErrorCode": "Twilio's error code, on a failure", "AccountSid": "the account (AC...)",
}
_TWIML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/xml": {"schema": {"type": "string"}}},
          "description": "Empty TwiML: the reply comes later"},
    403: {"description": "The X-Twilio-Signature is missing or wrong"}}


def _twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("", response_class=Response, responses=_TWIML,
             openapi_extra=_form_body(_MESSAGE_FIELDS, ["MessageSid", "From"]))
async def inbound_message(request: Request, db: Db) -> Response:
    """Accept one customer message (stored once per MessageSid); answer empty TwiML."""
    # A request that is not a message (InvalidTwilioRequest, InvalidMessage) is a 400 with the
    # reason: api/errors.py answers it.
    form = await _signed_form(request)
    settings = state(request).settings
    msg = whatsapp.parse_inbound(form, tenant_id=settings.default_tenant)
    stored = await accept_inbound(pool=db, msg=msg, topic=settings.kafka.topic_incoming)
    if not stored.created:
        log.info("whatsapp_redelivery_ignored", customer_id=str(stored.customer_id))
    return _twiml()


@router.post("/status", response_class=Response, responses=_TWIML,
             openapi_extra=_form_body(_STATUS_FIELDS, ["MessageSid", "MessageStatus"]))
async def delivery_status(request: Request, db: Db) -> Response:
    """Record a reply's delivery status. An unknown SID is answered 200 too (and logged):
    anything else makes Twilio retry a callback that can never succeed."""
    form = await _signed_form(request)
    await whatsapp_status.record(pool=db, tenant_id=state(request).settings.default_tenant,
                                 update=whatsapp.parse_status(form))
    return _twiml()


async def _signed_form(request: Request) -> dict[str, str]:
    """Return the form fields of a request Twilio signed; raise 404/503/403 otherwise."""
    settings = state(request).settings
    if "whatsapp" not in settings.enabled_channels:
        raise HTTPException(status_code=404, detail="the whatsapp channel is not enabled")
    token = settings.twilio.auth_token
    if token is None:
        raise HTTPException(status_code=503, detail="WhatsApp is not configured on this "
                            "server (TWILIO_AUTH_TOKEN is not set)")
    # Twilio posts application/x-www-form-urlencoded: every field is text. Anything else
    # (a file in a multipart body) is not Twilio's and will fail the signature.
    form = {key: value for key, value in (await request.form()).multi_items()
            if isinstance(value, str)}
    signature = request.headers.get(SIGNATURE_HEADER, "")
    url = signed_url(settings.api.public_url, request)
    if not signature or not RequestValidator(token.get_secret_value()).validate(
            url, form, signature):
        log.warning("twilio_signature_rejected", path=request.url.path,
                    signed=bool(signature))
        raise HTTPException(status_code=403, detail="the X-Twilio-Signature is missing or "
                            "does not match this request")
    return form


def signed_url(public_url: str | None, request: Request) -> str:
    """Return the URL Twilio called (and signed): the public URL with this request's path and
    query; the URL this process saw only when no public URL is configured."""
    if not public_url:
        return str(request.url)
    query = request.url.query
    return public_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")
