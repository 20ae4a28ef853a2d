"""Settings handed on: a copy on another database, and the environment that makes a child
`fte <command>` read the same settings (as `fte up` gives its children theirs)."""

from __future__ import annotations

import json
import os

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from production.config import Settings


def with_database(settings: Settings, url: str) -> Settings:
    """Return a copy of the settings on the database at `url`."""
    scoped = settings.model_copy(deep=True)
    scoped.database.url = SecretStr(url)
    return scoped


def settings_env(settings: Settings) -> dict[str, str]:
    """Return the environment variables that make a child process read these same settings
    (an unset value, or an empty list, is left out: the child reads its default)."""
    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, BaseSettings):
            prefix = value.model_config.get("env_prefix", "")
            for sub in type(value).model_fields:
                _put(env, f"{prefix}{sub}".upper(), getattr(value, sub))
        else:
            _put(env, name.upper(), value)
    return env


def _put(env: dict[str, str], name: str, value: object) -> None:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None or value == []:
        return
    if isinstance(value, bool):
        env[name] = "true" if value else "false"
    elif isinstance(value, list):
        env[name] = ",".join(str(item) for item in value)
    elif isinstance(value, dict):  # a table of models (OPENAI_PRICES): JSON, as read
        env[name] = json.dumps(value, default=lambda model: model.model_dump())
    else:
        env[name] = str(value)


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Return the environment for a child `fte <command>` that runs on these settings: this
    process's environment, the settings, then `extra`."""
    env = dict(os.environ)
    env.update(settings_env(settings))
    env.update(extra)
    return env
