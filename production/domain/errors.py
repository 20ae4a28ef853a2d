"""What a use case raises when it cannot do what it was asked, by kind.

Each kind is one answer to the caller, whatever the resource: the API maps them by type to one
HTTP status and body (`api/errors.py`), so a service names the kind and never an HTTP code.
"""

from __future__ import annotations


class NotFound(LookupError):
    """No such resource for this tenant (whether it exists for another one is not said)."""


class Conflict(Exception):
    """The resource is not in a state that allows the change (already decided, expired...)."""


class Invalid(ValueError):
    """The request breaks a rule; `problems` lists (field, reason)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in problems))
        self.problems = problems
