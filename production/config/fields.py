"""What the settings groups share: each group's own prefix, and lists read as "a,b,c"."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator
from pydantic_settings import NoDecode, SettingsConfigDict


def comma_list(value: object) -> object:
    """Read a list setting from the environment as "a,b,c" (spaces around items ignored)."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# A list read from one comma-separated variable instead of JSON.
CommaList = Annotated[list[str], NoDecode, BeforeValidator(comma_list)]


def group(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore",
                              env_ignore_empty=True)
