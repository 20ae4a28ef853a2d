"""The "propose actions" mode on OpenAI (Responses API, through the `openai` client), used by
the suggestion pipeline only after the cost gate said ALLOW.

The model words the suggestion and may pick a safer action, nothing more: it starts from the
local deterministic proposal (domain/proactive/propose.py), may keep its action or choose an
internal one (a note, a task, a draft), and writes the title, the text, the reason and its
confidence. Ids (tickets, customers), a ticket's new priority and the channel always come from
the local proposal, never from the model; an answer that breaks the schema raises, and the
pipeline falls back to the local proposal.
"""

from __future__ import annotations

import json
from typing import Any

from openai import AsyncOpenAI

from production.config import Settings
from production.domain.care.policy import ActionKind
from production.domain.proactive.propose import Context, Proposal
from production.domain.proactive.propose import propose as local_proposal

INSTRUCTIONS = (
    "You are the customer-success team's assistant. A trigger fired for one customer; you "
    "propose the next best action for a person to review. Answer with JSON only. Keep the "
    "proposed action, or pick a safer internal one (internal_note, follow_up_task, draft). "
    "Write a short title, the text of the note, task or message, one sentence of reason that "
    "cites the facts, and your confidence from 0 to 1. Never promise prices, refunds or "
    "contract terms.")
_SAFER = (ActionKind.INTERNAL_NOTE, ActionKind.FOLLOW_UP_TASK, ActionKind.DRAFT)


def _schema(actions: list[str]) -> dict[str, Any]:
    text = {"type": "string"}
    return {"type": "object", "additionalProperties": False,
            "required": ["action", "title", "body", "reason", "confidence"],
            "properties": {"action": {"type": "string", "enum": actions}, "title": text,
                           "body": text, "reason": text, "confidence": {"type": "number"}}}


class OpenAIProposer:
    def __init__(self, settings: Settings) -> None:
        key = settings.openai.api_key
        if key is None:
            raise ValueError("the OpenAI proposer needs OPENAI_API_KEY")
        self._client = AsyncOpenAI(api_key=key.get_secret_value(),
                                   base_url=settings.openai.base_url, max_retries=2)
        self._model = settings.openai.model
        self._max_output = settings.suggestions.max_output_tokens
        self.name = f"openai:{self._model}"

    def _input(self, trigger: str, reason: str, facts: dict[str, Any], context: Context,
               base: Proposal) -> str:
        return json.dumps({
            "trigger": trigger, "what_it_saw": reason, "facts": facts,
            "customer": {"name": context.customer_name, "channel": context.channel,
                         "open_tickets": [{"number": t.number, "priority": t.priority,
                                           "subject": t.subject} for t in context.tickets]},
            "proposed": {"action": base.action, "title": base.title, "body": base.body}},
            default=str)

    def estimated_tokens(self, *, trigger: str, facts: dict[str, Any],
                         context: Context) -> int:
        """About four characters a token for the request, plus the answer's budget."""
        base = local_proposal(trigger=trigger, reason="", facts=facts, context=context)
        size = len(INSTRUCTIONS) + len(self._input(trigger, "", facts, context, base))
        return size // 4 + self._max_output

    async def propose(self, *, trigger: str, reason: str, facts: dict[str, Any],
                      context: Context) -> Proposal:
        base = local_proposal(trigger=trigger, reason=reason, facts=facts, context=context)
        actions = list(dict.fromkeys([str(base.action), *map(str, _SAFER)]))
        response = await self._client.responses.create(
            model=self._model, instructions=INSTRUCTIONS,
            input=self._input(trigger, reason, facts, context, base),
            max_output_tokens=self._max_output,
            text={"format": {"type": "json_schema", "name": "suggestion", "strict": True,
                             "schema": _schema(actions)}})
        answer = json.loads(response.output_text)
        action, title, body = answer["action"], answer["title"], answer["body"]
        confidence = float(answer["confidence"])
        if action not in actions or not (0.0 <= confidence <= 1.0):
            raise ValueError("the model's answer is outside the schema")
        if not (isinstance(title, str) and title.strip() and isinstance(body, str)
                and body.strip()):
            raise ValueError("the model's answer has a blank title or text")
        kept = action == base.action
        return Proposal(
            action=action, title=title.strip()[:300], body=body.strip(),
            reason=str(answer["reason"]).strip() or base.reason,
            explanation=base.explanation if kept else
            f"The model chose an internal {action} instead of {base.action}.",
            confidence=confidence, params=base.params if kept else {}, topics=base.topics,
            tokens_used=response.usage.total_tokens if response.usage else 0)


def proposer_for(settings: Settings) -> OpenAIProposer | None:
    """Return the OpenAI proposer when OpenAI is configured and the setting lets it propose."""
    if settings.suggestions.proposer == "local" or settings.openai.api_key is None:
        return None
    return OpenAIProposer(settings)
