"""The tenant's autonomy settings, the environment's ceiling above them and the effective state.

Any operator reads them; only an admin changes them (a partial change, validated and audited by
`care_admin.update_autonomy`).
"""

from __future__ import annotations

from fastapi import Request

from production.api.admin.auth import Admin, Operator, keyed_router
from production.api.admin.schemas import AutonomyUpdate, AutonomyView, CeilingView
from production.api.deps import Db, Now, state
from production.services import care_admin

router = keyed_router()


def _view(view: care_admin.AutonomyView) -> AutonomyView:
    return AutonomyView(
        **view.settings.as_json(), kill_switch=view.kill_switch,
        global_kill_switch=view.global_kill_switch,
        ceiling=CeilingView(autonomy_enabled=view.ceiling.autonomy_enabled,
                            shadow_mode=view.ceiling.shadow_mode,
                            tenant_allowed=view.ceiling.tenant_allowed),
        autonomy_active=view.autonomy_active, updated_at=view.updated_at,
        updated_by=view.updated_by)


@router.get("/autonomy", response_model=AutonomyView)
async def get_autonomy(request: Request, who: Operator, db: Db) -> AutonomyView:
    """The tenant's settings, the environment's ceiling above them and the effective state."""
    return _view(await care_admin.autonomy(pool=db, settings=state(request).settings,
                                           tenant_id=who.tenant_id))


@router.put("/autonomy", response_model=AutonomyView)
async def put_autonomy(request: Request, body: AutonomyUpdate, who: Admin,
                       db: Db, now: Now) -> AutonomyView:
    return _view(await care_admin.update_autonomy(
        pool=db, settings=state(request).settings, tenant_id=who.tenant_id, actor=who.actor,
        now=now, changes=body.model_dump(exclude_unset=True)))
