"""Settings: one object built from the environment, grouped by the component it configures.

Every group reads its own prefix, so the variable names are the flat ones operators expect
(``DATABASE_URL``, ``KAFKA_BOOTSTRAP_SERVERS``, ``CARE_AUTONOMY_ENABLED`` ...). Nothing else in
the package reads ``os.environ``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from production.config.budget import BudgetSettings as BudgetSettings
from production.config.fields import CommaList as CommaList
from production.config.fields import comma_list as _comma_list
from production.config.fields import group as _group
from production.config.proactive import ProactiveSettings as ProactiveSettings
from production.config.providers import GmailSettings as GmailSettings
from production.config.providers import ModelPrice as ModelPrice
from production.config.providers import OpenAISettings as OpenAISettings
from production.config.providers import TwilioSettings as TwilioSettings
from production.config.suggestions import SuggestionSettings as SuggestionSettings
from production.domain.client_address import parse_networks

Channel = Literal["email", "whatsapp", "web_form"]
ALL_CHANNELS: tuple[Channel, ...] = ("email", "whatsapp", "web_form")
INTERNAL_TENANT = "techcorp"


class DatabaseSettings(BaseSettings):
    model_config = _group("DATABASE_")

    # None means "no database configured": `fte up` starts the embedded one and passes its URL on.
    url: SecretStr | None = None
    pool_min_size: int = 2
    pool_max_size: int = 20
    command_timeout_s: float = 10.0
    connect_timeout_s: float = 3.0
    # pgvector's HNSW candidate list per search (its default is 40). At 10k passages, 40 gave
    # recall@5 0.92-0.93 against exact search; see bench/kb_search.py.
    hnsw_ef_search: int = 100


class KafkaSettings(BaseSettings):
    model_config = _group("KAFKA_")

    bootstrap_servers: str | None = None
    # Real Kafka: on. The local tansu broker rejects InitProducerId, so the local stack turns
    # it off; consumer-side dedupe on provider ids keeps that safe.
    enable_idempotence: bool = True
    topic_incoming: str = "fte.tickets.incoming"
    topic_outgoing: str = "fte.tickets.outgoing"
    topic_dlq: str = "fte.tickets.dlq"
    partitions: int = 6
    replication_factor: int = 1
    worker_group: str = "fte-worker"
    dispatcher_group: str = "fte-dispatcher"
    fetch_max_wait_ms: int = 20
    linger_ms: int = 0
    # Records a worker handles at once: different keys (customers) concurrently, one key's in
    # offset order. Sized for the model's latency (a run takes seconds), not the partition
    # count; a run holds a database connection only while it talks to the database.
    max_in_flight: int = Field(64, ge=1)
    # The dispatcher holds a connection (and the reply's row lock) across each provider call:
    # keep this below DATABASE_POOL_MAX_SIZE.
    dispatcher_max_in_flight: int = Field(16, ge=1)
    commit_interval_ms: int = Field(200, ge=1)
    # A rebalance waits this long for the revoked partitions' running records, to commit them
    # before another member takes over; stay well under the session timeout (10 s).
    revoke_grace_ms: int = Field(5_000, ge=0)
    # On SIGTERM, running records get this long to finish; the rest are redelivered.
    shutdown_grace_ms: int = Field(10_000, ge=0)


class ApiSettings(BaseSettings):
    model_config = _group("API_")

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # The URL customers and providers reach: Twilio signs requests for it, and the ticket links
    # in replies point at its /support pages. Unset: http://127.0.0.1:<port>.
    public_url: str | None = None
    # Health says `starting` (503, out of rotation) until the worker's and the dispatcher's
    # consumer groups have first been seen holding their partitions: a message accepted before
    # would wait seconds for its reply. Off for an API deployed without consumers.
    ready_requires_consumers: bool = True
    # Peers (addresses or CIDR networks) whose X-Forwarded-For is believed, e.g. the ingress.
    # Empty: nobody's; the client address is the connection's.
    trusted_proxies: CommaList = Field(default_factory=list)
    # A request body (the form, a webhook, the admin API) larger than this is refused with 413
    # before anything parses it, counted as it streams in (Content-Length may lie or be absent).
    max_body_bytes: int = Field(65_536, ge=1_024)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)  # a typo must stop the API, not quietly trust nobody
        return value

    def public_base_url(self) -> str:
        """Return where customers reach this API, without a trailing slash."""
        return (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")


class WebSettings(BaseSettings):
    """The built web app (support form, operator console, widget.js) and who may embed it."""

    model_config = _group("WEB_")

    # Unset: web-form/dist in the source tree, where `make run` builds it.
    dist_dir: Path | None = None
    # Origins whose pages may call the public form and ticket endpoints ("*": any site).
    cors_origins: CommaList = Field(default_factory=lambda: ["*"])


# Signs ticket access tokens on a laptop; production refuses it.
DEV_TICKET_SECRET = "dev-only-ticket-secret-never-use-in-production"  # noqa: S105 - refused in prod


class TicketSettings(BaseSettings):
    """Who may read a ticket: the access token that opens it, and the limit on guessing."""

    model_config = _group("TICKET_")

    # The key ticket access tokens are derived from (HMAC-SHA256); the database keeps only a
    # nonce and each token's SHA-256, so it alone never yields a token. Rotating it re-keys a
    # ticket the next time its token is issued (a form replay, a lookup, a reply's link).
    token_secret: SecretStr = SecretStr(DEV_TICKET_SECRET)
    # Failed ticket reads and lookups per client address and window before 429 (per process).
    lookup_failures: int = Field(10, ge=1)
    lookup_window_s: float = Field(300.0, gt=0)


class RateLimitSettings(BaseSettings):
    """Requests one client address (API_TRUSTED_PROXIES says whose X-Forwarded-For counts) and
    one sender may make to the public endpoints per window before 429 with Retry-After.
    Counted per API process."""

    model_config = _group("RATE_LIMIT_")

    window_s: float = Field(60.0, gt=0)
    # Support form submissions per client address, and per email address.
    form_per_client: int = Field(30, ge=1)
    form_per_sender: int = Field(6, ge=1)
    # Ticket reads and lookups per client address, and per ticket (a lookup: per email).
    tickets_per_client: int = Field(240, ge=1)
    tickets_per_subject: int = Field(120, ge=1)


class CareSettings(BaseSettings):
    """The C.A.R.E. ceiling: code defaults are observe-only."""

    model_config = _group("CARE_")

    autonomy_enabled: bool = False
    shadow_mode: bool = True
    # Tenants other than the internal one may act only when listed here.
    tenant_allowlist: CommaList = Field(default_factory=list)


class ReliabilitySettings(BaseSettings):
    """Retry, dead-letter and sweeper knobs shared by the worker, dispatcher and relay."""

    model_config = _group("FTE_")

    max_attempts: int = 4
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 2.0
    sweeper_deadline_s: float = 300.0
    sweeper_interval_s: float = 5.0
    relay_batch_size: int = 500
    relay_poll_interval_s: float = 0.05
    dlq_ratio_limit: float = 0.5
    dlq_ratio_window: int = 50
    # Provider deliveries (Gmail, Twilio): retries with backoff, then the DLQ; a circuit breaker
    # per channel opens after this many consecutive failures and half-opens after the cooldown.
    delivery_max_attempts: int = 5
    delivery_backoff_initial_s: float = 0.5
    delivery_backoff_max_s: float = 30.0
    breaker_failure_threshold: int = 5
    breaker_cooldown_s: float = 30.0
    # A provider call whose outcome is not known (a timeout after the request went out, the
    # dispatcher or the database lost during it) is looked for at the provider this long after
    # it started (longer than a call can take to land), and sent again only if not found.
    delivery_lookup_after_s: float = Field(30.0, gt=0)


class SchedulerSettings(BaseSettings):
    """`fte scheduler`: deferred replies, expiring drafts, silence, digests and timed runs."""

    model_config = _group("FTE_SCHEDULER_")

    # Deferred replies and expired proposals are looked at this often.
    interval_s: float = 1.0
    # Silence (at_risk, dormant), NO_RESPONSE labels, digests and timed runs: this often.
    housekeeping_interval_s: float = 60.0
    # A schedules-mode tenant's timed run starts at this local hour (its digest before it).
    run_hour: int = Field(8, ge=0, le=23)
    # An approved reply nobody answered within this many days is labelled NO_RESPONSE.
    no_response_after_days: float = 7.0
    # Threshold checks (ops_alerts): this often, over the window, once enough messages came.
    alert_interval_s: float = Field(180.0, gt=0)
    alert_window_s: float = Field(3600.0, gt=0)
    alert_min_messages: int = Field(5, ge=1)


class UpSettings(BaseSettings):
    """`fte up`: how many of each process the local stack runs, each supervised on its own."""

    model_config = _group("FTE_UP_")

    # The API's processes: uvicorn's own (`API_WORKERS` of the one `fte api` child: one socket,
    # and uvicorn restarts a process that dies). Unset: one per core, at most two.
    api_processes: int | None = Field(None, ge=1)
    # `fte worker` and `fte dispatcher` children: each kind one consumer group, sharing partitions.
    workers: int = Field(1, ge=1)
    dispatchers: int = Field(1, ge=1)
    sign_in_ttl_s: float = Field(900.0, gt=0)  # the banner's one-click console link
    prometheus_bin: Path = Path("/usr/bin/prometheus")  # started, scraping all, if it exists


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    app_env: Literal["dev", "test", "prod"] = "dev"
    log_level: str = "INFO"
    enabled_channels: Annotated[list[Channel], NoDecode, BeforeValidator(_comma_list)] = Field(
        default_factory=lambda: list(ALL_CHANNELS)
    )
    default_tenant: str = INTERNAL_TENANT
    metrics_port: int = 9100

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    gmail: GmailSettings = Field(default_factory=GmailSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    tickets: TicketSettings = Field(default_factory=TicketSettings)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    care: CareSettings = Field(default_factory=CareSettings)
    reliability: ReliabilitySettings = Field(default_factory=ReliabilitySettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    up: UpSettings = Field(default_factory=UpSettings)
    suggestions: SuggestionSettings = Field(default_factory=SuggestionSettings)
    proactive: ProactiveSettings = Field(default_factory=ProactiveSettings)

    @model_validator(mode="after")
    def _refuse_unsafe_prod(self) -> Settings:
        if self.app_env == "prod":
            if self.database.url is None or self.kafka.bootstrap_servers is None:
                raise ValueError("APP_ENV=prod needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS")
            if not self.kafka.enable_idempotence:
                raise ValueError("APP_ENV=prod refuses KAFKA_ENABLE_IDEMPOTENCE=false")
            if self.tickets.token_secret.get_secret_value() == DEV_TICKET_SECRET:
                raise ValueError("APP_ENV=prod needs TICKET_TOKEN_SECRET (not the dev default)")
        return self

    def sandboxed_channels(self) -> list[Channel]:
        """Return the enabled channels without provider credentials, whose replies are
        recorded in the sandbox instead of sent."""
        missing = {
            "email": self.gmail.credentials_json is None,
            "whatsapp": not (self.twilio.account_sid and self.twilio.auth_token),
            "web_form": False,
        }
        return [channel for channel in self.enabled_channels if missing[channel]]

    def database_url(self) -> str:
        """Return the database URL, or fail with a message that says how to get one."""
        if self.database.url is None:
            raise RuntimeError("DATABASE_URL is not set (run `fte up` to start the local stack)")
        return self.database.url.get_secret_value()

    def kafka_servers(self) -> str:
        """Return the Kafka bootstrap servers, or fail with a message that says how to get them."""
        if self.kafka.bootstrap_servers is None:
            raise RuntimeError("KAFKA_BOOTSTRAP_SERVERS is not set (run `fte up`)")
        return self.kafka.bootstrap_servers


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()
