"""A deterministic, offline `agents.Model`: it plans the same tool calls a real model would.

It reads the conversation so far (the customer's message and the tool outputs), picks the next
tool in the required order, and composes its answer only from knowledge-base results. It exists
so the product works without an OpenAI key, and so tests and benchmarks are repeatable.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

from agents import Model, ModelResponse, ModelSettings, ModelTracing, Tool, Usage
from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import TResponseInputItem, TResponseStreamEvent
from openai.types.responses import ResponseFunctionToolCall

# Words that always need a human, whatever the knowledge base says.
_ESCALATION_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("legal_or_compliance", re.compile(
        r"\b(lawyer|attorney|legal action|lawsuit|sue|gdpr request|court)\b", re.I)),
    ("refund", re.compile(r"\b(refund|money back|chargeback|reimburse)", re.I)),
    ("pricing_or_contract", re.compile(
        r"\b(price|pricing|quote|discount|contract|how much|cost us|enterprise plan)\b", re.I)),
    ("human_request", re.compile(
        r"\b(human|real person|representative|speak to (an? )?(agent|manager|someone))\b", re.I)),
]
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from",
    "have", "how", "i", "if", "in", "is", "it", "me", "my", "of", "on", "or", "please", "so",
    "that", "the", "there", "this", "to", "was", "we", "what", "when", "where", "which", "who",
    "why", "will", "with", "you", "your", "hi", "hello", "thanks", "thank", "help", "need",
    "want", "get",
})


def _items(value: str | list[TResponseInputItem]) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    return [dict(item) for item in value]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def keywords(text: str, limit: int = 6) -> str:
    """Return the message's most telling words, for a second, shorter search."""
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOPWORDS]
    seen: list[str] = []
    for word in words:
        if word not in seen and len(word) > 2:
            seen.append(word)
    return " OR ".join(seen[:limit])


def escalation_reason(text: str) -> str | None:
    """Return the first hard escalation reason the message triggers, if any."""
    for reason, pattern in _ESCALATION_PATTERNS:
        if pattern.search(text):
            return reason
    return None


def _first_sentences(text: str, count: int) -> str:
    body = re.sub(r"\s+", " ", text).strip()
    sentences = re.split(r"(?<=[.!?])\s+", body)
    return " ".join(sentences[:count])


def _earlier_contact(history: list[dict[str, Any]], channel: str | None) -> str | None:
    earlier = [m for m in history if not m.get("current") and m.get("direction") == "inbound"]
    if not earlier:
        return None
    last = earlier[-1]
    topic = last.get("subject") or _first_sentences(str(last.get("content", "")), 1)[:80]
    via = {"email": "email", "whatsapp": "WhatsApp", "web_form": "our web form"}.get(
        str(last.get("channel")), str(last.get("channel"))
    )
    if channel and last.get("channel") == channel:
        return f'I see you contacted us earlier about "{topic}".'
    return f'I see you contacted us earlier about "{topic}" via {via}.'


class LocalSupportModel(Model):
    """Plans create_ticket → get_customer_history → search_knowledge_base → respond/escalate.

    The agent stops at send_response (StopAtTools), so the model is never asked to echo it.
    """

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: Any = None,
    ) -> ModelResponse:
        items = _items(input)
        step = len([i for i in items if i.get("type") == "function_call"])
        return ModelResponse(
            output=[self._next(items, step)], usage=Usage(requests=1), response_id=None
        )

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:
        raise NotImplementedError("the local model does not stream")

    def _next(self, items: list[dict[str, Any]], step: int) -> Any:
        message = " ".join(
            _text_of(i.get("content")) for i in items if i.get("role") == "user"
        ).strip()
        names = {i["call_id"]: i["name"] for i in items if i.get("type") == "function_call"}
        outputs: dict[str, list[Any]] = {}
        for item in items:
            if item.get("type") == "function_call_output":
                name = names.get(item.get("call_id", ""), "")
                outputs.setdefault(name, []).append(_parse(item.get("output")))

        if "create_ticket" not in outputs:
            subject = _first_sentences(message, 1)[:120] or "Customer request"
            return _call(step, "create_ticket", {"subject": subject})
        if "get_customer_history" not in outputs:
            return _call(step, "get_customer_history", {})
        searches = outputs.get("search_knowledge_base", [])
        hits = [hit for result in searches for hit in result.get("results", [])]
        if not searches:
            return _call(step, "search_knowledge_base", {"query": message[:500]})
        if not hits and len(searches) < 2 and keywords(message):
            return _call(step, "search_knowledge_base", {"query": keywords(message)})

        reason = escalation_reason(message) or (None if hits else "no_kb_match")
        if reason and "escalate_to_human" not in outputs:
            return _call(step, "escalate_to_human", {"reason": reason})
        history = (outputs["get_customer_history"][0] or {}).get("messages", [])
        channel = next((m.get("channel") for m in history if m.get("current")), None)
        return _call(step, "send_response", {"message": _compose(reason, hits, history, channel)})


def _compose(reason: str | None, hits: list[dict[str, Any]], history: list[dict[str, Any]],
             channel: str | None) -> str:
    parts: list[str] = []
    if (earlier := _earlier_contact(history, channel)) is not None:
        parts.append(earlier)
    if reason:
        parts.append("Thank you for reaching out. I have passed your request to a specialist on "
                     "our team, who will follow up with you personally.")
    else:
        best = max(hits, key=lambda h: float(h.get("score", 0)))
        parts.append(f"Here is what should help with {best['title'].lower()}: "
                     f"{_first_sentences(str(best['content']), 3)}")
        parts.append("If that does not solve it, just reply and we will dig deeper.")
    return " ".join(parts)


def _parse(output: Any) -> Any:
    if isinstance(output, str):
        try:
            return json.loads(output)
        except json.JSONDecodeError:
            return {}
    return output if isinstance(output, dict) else {}


def _call(step: int, name: str, arguments: dict[str, Any]) -> ResponseFunctionToolCall:
    return ResponseFunctionToolCall(
        id=f"fc_local_{step}", call_id=f"call_local_{step}_{name}", name=name,
        arguments=json.dumps(arguments), type="function_call", status="completed",
    )
