"""POST /api/v1/console/local-sign-in: the console link `fte up` prints signs the local
operator in. Only from a loopback connection (the client address of the connection itself,
never a forwarded one) and never in production; a token works once, before it expires."""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from production.api.deps import Db, Now, state
from production.services import local_sign_in

router = APIRouter(prefix="/api/v1/console", tags=["console"])


class SignInToken(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class SignedIn(BaseModel):
    key: str
    tenant_id: str
    name: str
    role: str


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else None
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.post("/local-sign-in", response_model=SignedIn)
async def sign_in(body: SignInToken, request: Request, db: Db, now: Now) -> SignedIn:
    """Trade the banner's one-time token for an admin key of its tenant."""
    if state(request).settings.app_env == "prod":
        raise HTTPException(status_code=404, detail="Not Found")
    if not _loopback(request):
        raise HTTPException(status_code=403, detail="the local sign-in link works only on "
                                                    "the machine that runs fte up")
    redeemed = await local_sign_in.redeem(pool=db, token=body.token, now=now)
    if redeemed is None:
        raise HTTPException(status_code=401, detail="this sign-in link was used already or "
                                                    "has expired: restart fte up for a new one")
    tenant_id, key = redeemed
    return SignedIn(key=key, tenant_id=tenant_id, name=local_sign_in.KEY_NAME,
                    role=local_sign_in.ROLE)
