"""Settings from the environment, and the C.A.R.E. autonomy ceiling."""

from __future__ import annotations

from uuid import UUID

import pytest
from pydantic import ValidationError

from production.care import decision, gates
from production.config import DEV_TICKET_SECRET, CareSettings, Settings
from production.database.queries.care_gate import StoredGateFacts
from production.domain.care.policy import Decision, PolicyDecision


def test_flat_environment_names_fill_the_nested_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/fte")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("KAFKA_ENABLE_IDEMPOTENCE", "false")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    monkeypatch.setenv("ENABLED_CHANNELS", "email, whatsapp")
    monkeypatch.setenv("API_PORT", "9000")
    monkeypatch.setenv("CARE_TENANT_ALLOWLIST", "acme,globex")
    settings = Settings()
    assert settings.database_url() == "postgresql://u@db/fte"
    assert settings.kafka_servers() == "kafka:9092"
    assert settings.kafka.enable_idempotence is False
    assert settings.openai.api_key is not None
    assert "sk-test" not in repr(settings)  # secrets never print
    assert settings.enabled_channels == ["email", "whatsapp"]
    assert settings.api.port == 9000
    assert settings.care.tenant_allowlist == ["acme", "globex"]


def test_code_defaults_are_observe_only_and_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CARE_AUTONOMY_ENABLED", "CARE_SHADOW_MODE", "KAFKA_ENABLE_IDEMPOTENCE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.care.autonomy_enabled is False
    assert settings.care.shadow_mode is True
    assert settings.kafka.enable_idempotence is True
    assert gates.is_care_autonomy_enabled(settings.care) is False


def test_missing_connection_settings_say_how_to_get_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    settings = Settings()
    with pytest.raises(RuntimeError, match="fte up"):
        settings.database_url()
    with pytest.raises(RuntimeError, match="fte up"):
        settings.kafka_servers()


def test_production_refuses_unsafe_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ValidationError, match="needs DATABASE_URL"):
        Settings()
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/fte")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("KAFKA_ENABLE_IDEMPOTENCE", "false")
    with pytest.raises(ValidationError, match=r"(?i)idempotence"):
        Settings()
    monkeypatch.setenv("KAFKA_ENABLE_IDEMPOTENCE", "true")
    monkeypatch.delenv("TICKET_TOKEN_SECRET", raising=False)
    with pytest.raises(ValidationError, match="needs TICKET_TOKEN_SECRET"):
        Settings()
    monkeypatch.setenv("TICKET_TOKEN_SECRET", DEV_TICKET_SECRET)  # the dev default, spelled out
    with pytest.raises(ValidationError, match="needs TICKET_TOKEN_SECRET"):
        Settings()
    monkeypatch.setenv("TICKET_TOKEN_SECRET", "a-real-secret-from-the-secret-store")
    assert Settings().tickets.token_secret.get_secret_value().startswith("a-real")


# Stored facts under which every other gate holds (care_gate.facts).
OPEN_ROW = StoredGateFacts(
    live=UUID(int=1), global_kill_switch=False, tenant_kill_switch=False, tenant_mode="autopilot",
    customer_mode=None, hands_off=True, escalation_status=None, max_actions_per_customer_day=5,
    min_interval_s=0, daily_budget=50, quiet_hours_start=None, quiet_hours_end=None,
    timezone="UTC")
AUTO = PolicyDecision(Decision.AUTO_EXECUTE, "LOW_RISK", "AAP1.low_risk.reply_in_thread", "ok")


@pytest.mark.parametrize(("enabled", "shadow", "tenant", "allowed", "clause"), [
    (False, True, "techcorp", False, "PR0.autonomy_disabled"),
    (False, False, "techcorp", False, "PR0.autonomy_disabled"),
    (True, True, "techcorp", False, "PR0.shadow_mode"),
    (True, False, "acme", False, "PR8.tenant_allowlist"),
    (True, False, "techcorp", True, "PR7.all_gates"),
])
def test_the_ceiling_opens_only_when_enabled_not_shadow_and_tenant_allowed(
    enabled: bool, shadow: bool, tenant: str, allowed: bool, clause: str
) -> None:
    care = CareSettings(autonomy_enabled=enabled, shadow_mode=shadow)
    outcome = gates.evaluate(decision.gate_facts(care, tenant, OPEN_ROW, AUTO))
    assert (outcome.executes, outcome.clause) == (allowed, clause)
    assert outcome.reason
    assert gates.is_care_autonomy_enabled(care) is (enabled and not shadow)


def test_an_allowlisted_tenant_may_act() -> None:
    care = CareSettings(autonomy_enabled=True, shadow_mode=False, tenant_allowlist=["acme"])
    assert gates.tenant_allowed(care, "acme") and not gates.tenant_allowed(care, "globex")
    assert gates.evaluate(decision.gate_facts(care, "acme", OPEN_ROW, AUTO)).executes
    assert not gates.evaluate(decision.gate_facts(care, "globex", OPEN_ROW, AUTO)).executes


def _known_variables() -> set[str]:
    from pydantic_settings import BaseSettings

    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        group = field.default_factory() if field.default_factory else None  # type: ignore[call-arg]
        if isinstance(group, BaseSettings):
            prefix = group.model_config.get("env_prefix", "")
            names |= {f"{prefix}{sub}".upper() for sub in type(group).model_fields}
        else:
            names.add(name.upper())
    return names


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    listed = {line.split("=", 1)[0] for line in text.splitlines()
              if line and not line.startswith("#")}
    assert listed == _known_variables()
    for line in text.splitlines():
        if line.startswith(("OPENAI_API_KEY", "TWILIO_AUTH_TOKEN", "GMAIL_CREDENTIALS_JSON",
                                "TICKET_TOKEN_SECRET")):
            assert line.split("=", 1)[1].strip() == ""  # no real secret, ever


def test_empty_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "")
    settings = Settings()
    assert settings.database.url is None
    assert settings.kafka.bootstrap_servers is None
