"""The products customers leave us for: one list, read by the escalation rules and sentiment."""

from __future__ import annotations

from typing import Final

NAMES: Final = ("asana", "trello", "monday.com", "monday", "jira", "clickup", "click up",
                "notion", "basecamp", "wrike", "smartsheet", "linear", "airtable", "teamwork",
                "todoist", "microsoft planner", "ms planner", "zoho projects")

# A competitor named, or one meant ("a cheaper tool"), as a regex group over folded text.
COMPETITOR: Final = (
    "(?:" + "|".join(name.replace(".", r"\.") for name in NAMES)
    + r"|a competitor|your competitors?|(?:another|a different|a cheaper|a better|some other) "
    r"(?:tool|provider|vendor|app|service|platform|product|solution|company))"
)

# Words one of which every COMPETITOR match contains.
ANCHORS: Final = frozenset(
    {name.split()[0].split(".")[0] for name in NAMES}
    | {"competitor", "competitors", "another", "different", "cheaper", "better", "other"})
