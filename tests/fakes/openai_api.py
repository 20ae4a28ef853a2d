"""A local HTTP fake of the OpenAI API: `POST /v1/responses` and `POST /v1/embeddings`.

It serves on a free loopback port in the test's event loop, so the real `openai` client, and the
Agents SDK on top of it, talk to it as they would to api.openai.com: the same paths, bearer-key
check, JSON shapes, error bodies and retry headers. Every request is recorded for assertions.

    async with FakeOpenAI() as fake:
        # point OPENAI_BASE_URL at fake.base_url and OPENAI_API_KEY at fake.api_key
        ...
        assert fake.bodies()[0]["model"] == "gpt-4o-mini"

What `/v1/responses` answers is a policy: by default `support_agent`, which plays a sensible
support model; `scripted(...)` returns canned outputs in turn; `fail_next(429, 500)` makes the
next requests fail first, for the client's retry path; `hold()` keeps every `/v1/responses`
request waiting (`waiting` counts them: the runs in flight) until `release()`. `latency_s` (or
the environment's `FAKE_OPENAI_LATENCY_S`, default 0) holds every `/v1/responses` answer back
that long, like a real model's think time, for benchmarks.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import os
import re
import struct
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fakes.server import LocalServer

Item = dict[str, Any]
# Reads one /v1/responses request body; returns the output items of the answer.
Policy = Callable[[dict[str, Any]], list[Item]]

RESPONSES = "/v1/responses"
EMBEDDINGS = "/v1/embeddings"
DEFAULT_DIMENSIONS = 512
LATENCY_ENV = "FAKE_OPENAI_LATENCY_S"

_ERRORS = {  # status: (type, code, message) as the real API words them
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


@dataclass(frozen=True)
class Recorded:
    path: str
    status: int
    body: dict[str, Any]
    usage: dict[str, Any] | None = None  # an answered response's usage (tokens billed)


class FakeOpenAI:
    """The fake API server, running while the `async with` block runs."""

    def __init__(self, *, api_key: str = "sk-test-fake", policy: Policy | None = None,
                 latency_s: float | None = None) -> None:
        self.api_key = api_key
        self.policy = policy or support_agent
        # Seconds every model answer takes; the environment sets it for a benchmark's children.
        self.latency_s = float(os.environ.get(LATENCY_ENV, "0")) if latency_s is None \
            else latency_s
        self.recorded: list[Recorded] = []
        self.tokens_served = 0  # usage.total_tokens summed over the answered responses
        self.base_url = ""  # http://127.0.0.1:PORT/v1 once started
        self._failures: list[int] = []
        self._server: LocalServer | None = None
        self.waiting = 0  # /v1/responses requests held by hold(), not answered yet
        self._open = asyncio.Event()
        self._open.set()

    def hold(self) -> None:
        """Keep every /v1/responses request waiting, as a slow model would, until release()."""
        self._open.clear()

    def release(self) -> None:
        """Answer the held requests, and the next ones at once."""
        self._open.set()

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these error statuses, one each, then normally again."""
        self._failures.extend(statuses)

    def bodies(self, path: str = RESPONSES) -> list[dict[str, Any]]:
        """Return the bodies of the requests to `path` that were answered with 200, in order."""
        return [r.body for r in self.recorded if r.path == path and r.status == 200]

    async def __aenter__(self) -> FakeOpenAI:
        self._server = LocalServer(self._app())
        port = await self._server.start()
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self.release()  # the server waits for its open requests before it stops
        await self._server.stop()

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post(RESPONSES)
        async def responses(request: Request) -> JSONResponse:
            self.waiting += 1
            try:
                await self._open.wait()
            finally:
                self.waiting -= 1
            if self.latency_s > 0:
                await asyncio.sleep(self.latency_s)
            return await self._answer(request, self._respond)

        @app.post(EMBEDDINGS)
        async def embeddings(request: Request) -> JSONResponse:
            return await self._answer(request, _embeddings)

        return app

    async def _answer(self, request: Request,
                      build: Callable[[dict[str, Any]], JSONResponse]) -> JSONResponse:
        """Check the key, then fail on request or build the answer; record either way."""
        try:
            body = await request.json()
        except ValueError:
            body = {}
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if given != self.api_key:
            answer = _error(401, f"Incorrect API key provided: {_mask(given)}.")
        elif self._failures:
            answer = _error(self._failures.pop(0))
        else:
            answer = build(body)
        usage = json.loads(answer.body).get("usage") if answer.status_code == 200 else None
        self.recorded.append(Recorded(request.url.path, answer.status_code, body, usage))
        return answer

    def _respond(self, body: dict[str, Any]) -> JSONResponse:
        if (problem := _refusal(body)) is not None:
            return _error(400, problem)
        try:
            output = self.policy(body)
        except Exception as exc:  # a policy bug or an exhausted script: say so to the client
            return _error(400, f"fake policy failed: {exc!r}")
        response = _response(body, output)
        self.tokens_served += response["usage"]["total_tokens"]
        return JSONResponse(response)


def function_call(name: str, arguments: dict[str, Any], *, call_id: str | None = None) -> Item:
    """Return an output item that asks the client to call one function tool."""
    return {"type": "function_call", "id": _id("fc"), "call_id": call_id or _id("call"),
            "name": name, "arguments": json.dumps(arguments), "status": "completed"}


def message(text: str) -> Item:
    """Return an output item with the assistant's final text."""
    return {"type": "message", "id": _id("msg"), "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


def scripted(*turns: list[Item]) -> Policy:
    """Return a policy that answers the n-th request with the n-th list of output items."""
    remaining = list(turns)

    def policy(body: dict[str, Any]) -> list[Item]:
        if not remaining:
            raise AssertionError("the script has no answer left")
        return remaining.pop(0)

    return policy


_REFUND = re.compile(r"\brefund", re.I)
# What the instructions say when the pre-screen found that a person must reply.
_REQUIRED = re.compile(r"Escalation required: call escalate_to_human with reason (\w+)")
ESCALATED_REPLY = "A specialist from our team will follow up with you personally."


def support_agent(body: dict[str, Any]) -> list[Item]:
    """Play a sensible support model: it reads the conversation and the tools it is offered, and
    takes the next step the instructions ask for, one tool per turn.

    The required order is create_ticket → get_customer_history → search_knowledge_base; a step
    whose result is already in the input (because the client ran it) is not repeated. When
    every search so far found nothing, and none said the subject is not covered, it searches
    once more with a shorter query of its own. Then it escalates (the instructions require it,
    the customer wants a refund, or nothing was found), with the note to the customer in the
    same call when escalate_to_human takes one, else in a send_response after it; otherwise it
    answers with send_response, quoting the first search result, so a test can tell that the
    reply is grounded in the knowledge base.
    """
    items = _input_items(body)
    text = " ".join(_text(i.get("content")) for i in items if i.get("role") == "user").strip()
    names = {i.get("call_id"): i.get("name") for i in items if i.get("type") == "function_call"}
    outputs: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item.get("type") == "function_call_output":
            outputs.setdefault(str(names.get(item.get("call_id"))), []).append(
                _parse(item.get("output")))
    if "create_ticket" not in outputs:
        subject = text.splitlines()[0][:120] if text else "Customer request"
        return [function_call("create_ticket", {"subject": subject, "category": "general",
                                                "priority": "medium"})]
    if "get_customer_history" not in outputs:
        return [function_call("get_customer_history", {})]
    searches = outputs.get("search_knowledge_base", [])
    if not searches:
        return [function_call("search_knowledge_base", {"query": text[:500]})]
    if "send_response" in outputs:
        return [message("I have sent the customer my reply.")]
    results = [hit for search in searches for hit in search.get("results") or []]
    not_covered = any(search.get("not_covered") for search in searches)
    if not results and not not_covered and len(searches) < 2 and _keywords(text):
        return [function_call("search_knowledge_base", {"query": _keywords(text)})]
    required = _REQUIRED.search(str(body.get("instructions") or ""))
    reason = required.group(1) if required else "refund" if _REFUND.search(text) else \
        None if results else "no_kb_match"
    if reason and "escalate_to_human" not in outputs:
        arguments = {"reason": reason}
        if "message" in _parameters(body, "escalate_to_human"):
            arguments["message"] = ESCALATED_REPLY
        return [function_call("escalate_to_human", arguments)]
    reply = ESCALATED_REPLY if reason else " ".join(str(results[0]["content"]).split())[:400]
    return [function_call("send_response", {"message": reply})]


def _keywords(text: str) -> str:
    """Return the text's first six longer words: the shorter query a model would try next."""
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 3]
    return " ".join(list(dict.fromkeys(words))[:6])


def _parameters(body: dict[str, Any], tool: str) -> dict[str, Any]:
    """Return the properties of the named tool's parameters, as the request offers it."""
    for offered in body.get("tools") or []:
        if offered.get("name") == tool:
            properties: dict[str, Any] = (offered.get("parameters") or {}).get("properties", {})
            return properties
    return {}


def embedding(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """Return the fake's unit vector for a text: a hashed bag of its words.

    Deterministic, and texts that share words are close, so a vector search over these ranks
    passages sensibly.
    """
    vector = [0.0] * dimensions
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vector[int.from_bytes(digest[:4], "big") % dimensions] += 1.0 if digest[4] % 2 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        vector[0] = norm = 1.0  # no words: still a unit vector
    return [v / norm for v in vector]


def _embeddings(body: dict[str, Any]) -> JSONResponse:
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else texts
    if not texts or not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        return _error(400, "'input' must be a string or a non-empty list of strings.")
    dimensions = int(body.get("dimensions") or DEFAULT_DIMENSIONS)
    base64_wanted = body.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(texts):
        vector = embedding(text, dimensions)
        encoded: list[float] | str = (
            base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            if base64_wanted else vector)
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(max(1, len(text) // 4) for text in texts)
    return JSONResponse({"object": "list", "data": data, "model": body.get("model"),
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def _refusal(body: dict[str, Any]) -> str | None:
    """Return why the real API would refuse this request, for the rules a client can break."""
    if not body.get("model"):
        return "Missing required parameter: 'model'."
    items = _input_items(body)
    calls = {i.get("call_id") for i in items if i.get("type") == "function_call"}
    answered = [i.get("call_id") for i in items if i.get("type") == "function_call_output"]
    for call_id in answered:
        if call_id not in calls and not body.get("previous_response_id"):
            return f"No tool call found for function call output with call_id {call_id}."
    for tool in body.get("tools") or []:
        params = tool.get("parameters") or {}
        missing = set(params.get("properties", {})) - set(params.get("required", []))
        if tool.get("strict") and (missing or params.get("additionalProperties") is not False):
            return (f"Invalid schema for function '{tool.get('name')}': strict mode needs "
                    "'additionalProperties': false and every property in 'required'.")
    return None


def _response(body: dict[str, Any], output: list[Item]) -> dict[str, Any]:
    # About four characters a token, like the real tokenizer on English text.
    input_tokens = len(json.dumps([body.get("instructions"), body.get("input"),
                                   body.get("tools")])) // 4
    output_tokens = max(1, len(json.dumps(output)) // 4)
    now = int(time.time())
    return {
        "id": _id("resp"), "object": "response", "created_at": now, "completed_at": now,
        "status": "completed", "error": None, "incomplete_details": None,
        "model": body["model"], "instructions": body.get("instructions"), "output": output,
        "tools": body.get("tools") or [], "tool_choice": body.get("tool_choice", "auto"),
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "temperature": 1.0, "top_p": 1.0, "truncation": "disabled", "metadata": {},
        "text": {"format": {"type": "text"}},
        "usage": {
            "input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    }


def _error(status: int, message: str | None = None) -> JSONResponse:
    kind, code, default = _ERRORS.get(status, _ERRORS[500])
    headers = {"x-request-id": _id("req")}
    if status == 429 or status >= 500:
        headers["retry-after-ms"] = "10"  # the client honours it: retries stay fast
    return JSONResponse(
        {"error": {"message": message or default, "type": kind, "param": None, "code": code}},
        status_code=status, headers=headers)


def _input_items(body: dict[str, Any]) -> list[Item]:
    value = body.get("input") or []
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    return [item for item in value if isinstance(item, dict)]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _parse(output: Any) -> dict[str, Any]:
    try:
        parsed = json.loads(output) if isinstance(output, str) else output
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _mask(key: str) -> str:
    return f"{key[:3]}{'*' * max(0, len(key) - 7)}{key[-4:]}" if len(key) > 7 else "***"


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"
