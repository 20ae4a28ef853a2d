"""The providers' settings: the model (OpenAI, with its price table), Gmail and Twilio."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from production.config.fields import CommaList
from production.config.fields import group as _group


class ModelPrice(BaseModel):
    """A model's list price in US dollars per million tokens (for the cost estimate)."""

    input_per_million: float = Field(default=0.0, ge=0)
    output_per_million: float = Field(default=0.0, ge=0)

    def cost(self, *, input_tokens: int, output_tokens: int) -> float:
        """Return the estimated cost of these tokens in US dollars."""
        return (input_tokens * self.input_per_million
                + output_tokens * self.output_per_million) / 1_000_000


def _default_prices() -> dict[str, ModelPrice]:
    # A model not listed (the local model among them) costs 0 in the estimate.
    return {"gpt-4o-mini": ModelPrice(input_per_million=0.15, output_per_million=0.60),
            "gpt-4o": ModelPrice(input_per_million=2.50, output_per_million=10.00),
            "gpt-4.1-mini": ModelPrice(input_per_million=0.40, output_per_million=1.60)}


class OpenAISettings(BaseSettings):
    model_config = _group("OPENAI_")

    api_key: SecretStr | None = None
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    embedding_model: str = "text-embedding-3-small"
    # OPENAI_PRICES='{"gpt-4o-mini": {"input_per_million": 0.15, "output_per_million": 0.6}}'
    prices: dict[str, ModelPrice] = Field(default_factory=_default_prices)


class GmailSettings(BaseSettings):
    model_config = _group("GMAIL_")

    # A service-account (domain-wide delegation) or authorized-user JSON. Unset: email replies
    # go to the sandbox and the webhook answers 503 "not configured".
    credentials_json: SecretStr | None = None
    support_address: str = "support@techcorp.example"
    # The Gmail API root; tests point it at a local fake that the real client library talks to.
    api_base_url: str = "https://gmail.googleapis.com/"
    # Where OAuth tokens are refreshed. Unset: Google's endpoint (google-auth ignores an
    # authorized-user JSON's own token_uri; a service account's JSON names its own).
    token_uri: str | None = None
    # Pub/Sub push authentication: the OIDC token's audience, the push subscription's service
    # account, the accepted issuers and where Google's signing certificates are fetched.
    pubsub_audience: str | None = None
    pubsub_service_account: str | None = None
    oidc_issuers: CommaList = Field(
        default_factory=lambda: ["accounts.google.com", "https://accounts.google.com"])
    oidc_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    # `fte gmail watch`: the Pub/Sub topic, and how long before it expires (7 days) it renews.
    pubsub_topic: str | None = None
    watch_renew_before_s: float = 86_400.0
    # After a lost historyId: how many recent inbox messages a full sync reads.
    full_sync_max_messages: int = 50
    timeout_s: float = 10.0


class TwilioSettings(BaseSettings):
    model_config = _group("TWILIO_")

    # Unset: WhatsApp replies go to the sandbox and the webhooks answer 503 "not configured".
    account_sid: str | None = None
    auth_token: SecretStr | None = None
    whatsapp_number: str | None = None  # the sender, E.164 ("+14155238886")
    # The Twilio REST root; tests point it at a local fake that the real client talks to.
    api_base_url: str = "https://api.twilio.com"
    # Messages from one sender closer together than this are answered as one turn.
    turn_window_s: float = 3.0
    timeout_s: float = 10.0

    @field_validator("whatsapp_number", mode="before")
    @classmethod
    def _bare_number(cls, value: object) -> object:
        """Accept Twilio's "whatsapp:+1..." address form too; the adapter adds the prefix."""
        if isinstance(value, str) and value.lower().startswith("whatsapp:"):
            return value[len("whatsapp:"):]
        return value
