"""The kill switches: the tenant's (any operator halts, only an admin releases) and the global
one (the internal tenant's admins only; to everyone else it does not exist)."""

from __future__ import annotations

from fastapi import HTTPException

from production.api.admin.auth import InternalAdmin, Operator, keyed_router
from production.api.admin.schemas import KillSwitchChange
from production.api.deps import Db, Now
from production.services import care_admin

router = keyed_router()


@router.get("/kill-switch", response_model=care_admin.KillSwitch)
async def get_kill_switch(who: Operator, db: Db) -> care_admin.KillSwitch:
    return await care_admin.kill_switch(pool=db, tenant_id=who.tenant_id)


@router.post("/kill-switch", response_model=care_admin.KillSwitch)
async def post_kill_switch(body: KillSwitchChange, who: Operator, db: Db,
                           now: Now) -> care_admin.KillSwitch:
    """Anyone may halt the tenant's autonomy; only an admin may let it run again."""
    if not body.engaged and not who.may("admin"):
        raise HTTPException(status_code=403, detail="releasing the kill switch needs an admin key")
    return await care_admin.set_kill_switch(pool=db, tenant_id=who.tenant_id, engaged=body.engaged,
                                            reason=body.reason, actor=who.actor, now=now)


@router.get("/kill-switch/global", response_model=care_admin.KillSwitch)
async def get_global_kill_switch(who: InternalAdmin, db: Db) -> care_admin.KillSwitch:
    return await care_admin.global_kill_switch(pool=db)


@router.post("/kill-switch/global", response_model=care_admin.KillSwitch)
async def post_global_kill_switch(body: KillSwitchChange, who: InternalAdmin,
                                  db: Db, now: Now) -> care_admin.KillSwitch:
    return await care_admin.set_global_kill_switch(pool=db, tenant_id=who.tenant_id,
                                                   engaged=body.engaged, reason=body.reason,
                                                   actor=who.actor, now=now)
