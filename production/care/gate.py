"""The autonomy ceiling: nothing acts on its own unless an operator said it may.

The environment (CARE_AUTONOMY_ENABLED, CARE_SHADOW_MODE, CARE_TENANT_ALLOWLIST) is a ceiling
above everything stored: these two answers are the first gates of `gates.evaluate`.
"""

from __future__ import annotations

from production.config import INTERNAL_TENANT, CareSettings


def is_care_autonomy_enabled(care: CareSettings) -> bool:
    """Return True only when autonomy is enabled AND shadow mode is off."""
    return care.autonomy_enabled and not care.shadow_mode


def tenant_allowed(care: CareSettings, tenant_id: str) -> bool:
    """The internal tenant may act; any other tenant only when explicitly allowlisted."""
    return tenant_id == INTERNAL_TENANT or tenant_id in care.tenant_allowlist
