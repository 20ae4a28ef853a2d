"""The autonomy ceiling: nothing acts on its own unless an operator said it may."""

from __future__ import annotations

from dataclasses import dataclass

from production.config import INTERNAL_TENANT, CareSettings


@dataclass(frozen=True)
class GateDecision:
    allowed: bool
    reason: str
    clause: str


def is_care_autonomy_enabled(care: CareSettings) -> bool:
    """Return True only when autonomy is enabled AND shadow mode is off."""
    return care.autonomy_enabled and not care.shadow_mode


def tenant_allowed(care: CareSettings, tenant_id: str) -> bool:
    """The internal tenant may act; any other tenant only when explicitly allowlisted."""
    return tenant_id == INTERNAL_TENANT or tenant_id in care.tenant_allowlist


def check(care: CareSettings, tenant_id: str) -> GateDecision:
    """Return whether an autonomous customer-facing action may run, and the clause why."""
    if not care.autonomy_enabled:
        return GateDecision(False, "autonomy is disabled (CARE_AUTONOMY_ENABLED=false)",
                            "PR0.autonomy_disabled")
    if care.shadow_mode:
        return GateDecision(False, "shadow mode is on (CARE_SHADOW_MODE=true)", "PR0.shadow_mode")
    if not tenant_allowed(care, tenant_id):
        return GateDecision(False, "tenant is not on the autonomy allowlist",
                            "PR8.tenant_allowlist")
    return GateDecision(True, "all autonomy gates hold", "PR7.all_gates")
