"""/api/v1/admin: the C.A.R.E. control plane for a tenant's operators and admins.

Every request carries a tenant's API key, checked before anything else (`auth`); every resource
is the key's tenant's. Operators run the day (kill switch on, hands-off, proposals, audit
export); admins also change settings, modes and release the kill switch. One module per
resource, the bodies in `schemas`; a service's refusal (not found, conflict, invalid) is
answered by the app's one exception mapping (`api/errors.py`).
"""

from __future__ import annotations

from fastapi import APIRouter

from production.api.admin import (
    activity,
    audit,
    auth,
    autonomy,
    customer_health,
    customers,
    digest_address,
    kill_switch,
    proposals,
    suggestions,
)

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
for _resource in (auth, autonomy, kill_switch, customers, customer_health, proposals, activity,
                  audit, digest_address, suggestions):
    router.include_router(_resource.router)
