"""Where the tenant's daily digest is mailed: any operator reads it, an admin changes it."""

from __future__ import annotations

from pydantic import BaseModel, EmailStr, Field

from production.api.admin.auth import Admin, Operator, keyed_router
from production.api.deps import Db, Now
from production.services import digest_mail

router = keyed_router()


class DigestAddress(BaseModel):
    email: EmailStr | None = Field(description="the operators' address; null: stored only")


@router.get("/digest-address", response_model=DigestAddress)
async def get_digest_address(who: Operator, db: Db) -> DigestAddress:
    """Where the daily digest goes (through the email channel; the sandbox locally)."""
    return DigestAddress(email=await digest_mail.operator_address(pool=db, tenant_id=who.tenant_id))


@router.put("/digest-address", response_model=DigestAddress)
async def put_digest_address(body: DigestAddress, who: Admin, db: Db, now: Now) -> DigestAddress:
    return DigestAddress(email=await digest_mail.set_operator_address(
        pool=db, tenant_id=who.tenant_id, email=body.email, actor=who.actor, now=now))
