"""A deterministic, offline `agents.Model`: it plans the same tool calls a real model would.

It reads the conversation so far (the customer's message and the results of the steps that
already ran: the ticket, the history, a first search), decides the next tool, and composes its
answer only from knowledge-base results. Typically that is one turn, send_response or
escalate_to_human; a second search first when the first found nothing. It exists so the product
works without an OpenAI key, and so tests and benchmarks are repeatable.
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

from production.agent import escalation

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
    return " ".join(seen[:limit])


def _first_sentences(text: str, count: int) -> str:
    body = re.sub(r"\s+", " ", text).strip()
    sentences = re.split(r"(?<=[.!?])\s+", body)
    return " ".join(sentences[:count])


class LocalSupportModel(Model):
    """Plans [a second search_knowledge_base →] send_response or escalate_to_human.

    The run ends once either is accepted, so the model is never asked to echo it.
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

        searches = outputs.get("search_knowledge_base", [])
        hits = [hit for result in searches for hit in result.get("results", [])]
        reasons = escalation.detect(
            # With nothing found there is nothing to ground an answer in: no_kb_match.
            message, searches_without_match=0 if hits else max(len(searches), 2)).reasons
        # A second search can only help when nothing else already needs a person.
        if reasons == ("no_kb_match",) and len(searches) < 2 and keywords(message) and \
                not any(result.get("not_covered") for result in searches):
            return _call(step, "search_knowledge_base", {"query": keywords(message)})
        history = (outputs.get("get_customer_history") or [{}])[0]
        if reasons:
            return _call(step, "escalate_to_human",
                         {"reason": reasons[0], "message": _compose(True, hits, history)})
        return _call(step, "send_response", {"message": _compose(False, hits, history)})


# How many sentences of the best passage each channel's answer quotes.
_SENTENCES = {"whatsapp": 2, "web_form": 4, "email": 6}


def _compose(escalated: bool, hits: list[dict[str, Any]], history: dict[str, Any]) -> str:
    channel = str(history.get("channel") or "web_form")
    parts: list[str] = []
    if acknowledge := history.get("acknowledge"):
        parts.append(str(acknowledge))
    if not escalated and (frustrated := history.get("acknowledge_frustration")):
        parts.append(str(frustrated))
    if escalated:
        parts.append("Thank you for reaching out. I have passed your request to a specialist on "
                     "our team, who will follow up with you personally.")
    else:
        best = hits[0]
        body = _first_sentences(str(best["content"]), _SENTENCES.get(channel, 4))
        if channel == "whatsapp":
            parts.append(body)
        else:
            parts.append(f"Here is what should help with {str(best['title']).lower()}: {body}")
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
