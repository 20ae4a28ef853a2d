"""Who is asking: the tenant's API key, checked before anything else, and what its role may do.

Every admin route is a `KeyRequired` route: the key (`Authorization: Bearer fte_...` or
`X-API-Key`) is authenticated before the body or the parameters are read, so none, an unknown or
a revoked one is 401 whatever the request. Every resource is the key's tenant's: an id of
another tenant's customer or proposal is 404, exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.routing import APIRoute

from production.api.admin.schemas import Principal
from production.api.deps import bearer, pool
from production.config import INTERNAL_TENANT
from production.services import admin_keys
from production.services.admin_keys import ApiPrincipal

_UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}


def _presented_key(request: Request) -> str | None:
    return bearer(request) or request.headers.get("x-api-key") or None


class KeyRequired(APIRoute):
    """A route that authenticates the API key before its body or parameters are read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authenticated(request: Request) -> Response:
            presented = _presented_key(request)
            if presented is None:
                raise HTTPException(status_code=401, detail="an API key is required",
                                    headers=_UNAUTHENTICATED)
            principal = await admin_keys.authenticate(pool=await pool(request), presented=presented)
            if principal is None:
                raise HTTPException(status_code=401, detail="the API key is not valid",
                                    headers=_UNAUTHENTICATED)
            request.state.principal = principal
            return await handler(request)

        return authenticated


def keyed_router() -> APIRouter:
    """Return a router whose every route needs a valid key (a resource's routes)."""
    return APIRouter(route_class=KeyRequired)


async def operator(request: Request) -> ApiPrincipal:
    """Any valid key of the tenant (operator or admin)."""
    principal: ApiPrincipal = request.state.principal
    return principal


async def admin(who: Annotated[ApiPrincipal, Depends(operator)]) -> ApiPrincipal:
    if not who.may("admin"):
        raise HTTPException(status_code=403, detail="this needs an admin key")
    return who


async def internal_admin(who: Annotated[ApiPrincipal, Depends(operator)]) -> ApiPrincipal:
    """An admin of the internal tenant; to everyone else the resource does not exist."""
    if who.tenant_id != INTERNAL_TENANT:
        raise HTTPException(status_code=404, detail="Not Found")
    return await admin(who)


Operator = Annotated[ApiPrincipal, Depends(operator)]
Admin = Annotated[ApiPrincipal, Depends(admin)]
InternalAdmin = Annotated[ApiPrincipal, Depends(internal_admin)]


def resource_id(value: str, what: str) -> UUID:
    """Return the id; a malformed one is as unknown as a missing one (404, not 422)."""
    try:
        return UUID(value)
    except ValueError:
        raise HTTPException(status_code=404, detail=f"no such {what}") from None


router = keyed_router()


@router.get("/whoami", response_model=Principal)
async def whoami(who: Operator) -> Principal:
    """The key's tenant, name and role (the console's sign-in check)."""
    return Principal(tenant_id=who.tenant_id, name=who.name, role=who.role)
