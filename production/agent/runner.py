"""Build the agent once per process and run it on one inbound message.

Around the model's run sit the deterministic rules. Prompt injection is stopped first, before
any tool runs. Then the steps that need no judgement run in code (`tools.prerun`: the ticket,
the cross-channel history, a first search on the customer's words) and reach the model as the
tool calls and results they are, with the pre-screen (sentiment and the escalation detector)
in its instructions; the model's own turns are at most one more search, then send_response or
escalate_to_human. After the run every reason the detector found is enforced whatever the model
did, so an answer never goes out where a human must reply.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import openai
import structlog
from agents import (
    Agent,
    FunctionToolResult,
    Model,
    ModelResponse,
    ModelSettings,
    RunConfig,
    RunContextWrapper,
    RunHooks,
    Runner,
    ToolsToFinalOutputResult,
    TResponseInputItem,
)
from agents.exceptions import MaxTurnsExceeded, ModelBehaviorError
from agents.models.openai_provider import OpenAIProvider

from production.agent import escalation, guardrails, language, notes, operations, order
from production.agent.context import SupportRunContext
from production.agent.local_model import LocalSupportModel
from production.agent.prompts import SYSTEM_PROMPT, prescreen_note
from production.agent.tools import ALL_TOOLS, HOLDING_REPLY, prerun
from production.config import ModelPrice, Settings
from production.domain.closing import is_closing
from production.domain.escalation import frustration
from production.domain.sentiment import score as sentiment_score
from production.metrics import COST, KB_LOOKUPS, MODEL_CALLS, MODEL_ERRORS, MODEL_LATENCY, TOKENS

log = structlog.get_logger(__name__)

# Model turns of one run: a second search, the reply, and slack for refused calls.
MAX_TURNS = 5

SAFE_REPLY = ("I can only help with questions about TechCorp Cloud, so I have passed your "
              "message to a member of our team, who will review it and follow up.")


@dataclass(frozen=True)
class AgentOutcome:
    reply: str
    escalation_reasons: tuple[str, ...]
    kb_hit: bool
    kb_topic: str | None
    sentiment: float
    latency_ms: int
    tokens: int | None
    model: str
    guardrail: str | None
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    resolved: bool = False  # a closing: the customer confirmed, the ticket is resolved

    @property
    def escalation_reason(self) -> str | None:
        return self.escalation_reasons[0] if self.escalation_reasons else None


def _instructions(wrapper: RunContextWrapper[SupportRunContext],
                  agent: Agent[SupportRunContext]) -> str:
    ctx = wrapper.context
    return f"{SYSTEM_PROMPT}\n{prescreen_note(ctx.channel, ctx.sentiment, ctx.escalation_reasons)}"


def _stop_once_replied(wrapper: RunContextWrapper[SupportRunContext],
                       results: list[FunctionToolResult]) -> ToolsToFinalOutputResult:
    """End the run once send_response or escalate_to_human staged the reply (a refused call
    lets the model go on)."""
    reply = wrapper.context.reply
    return ToolsToFinalOutputResult(is_final_output=reply is not None, final_output=reply)


class _ModelUsage(RunHooks[SupportRunContext]):
    """Adds every answered model call and its tokens to the run's context, and observes how
    long the call took."""

    def __init__(self, model: str) -> None:
        self.latency = MODEL_LATENCY.labels(model)

    async def on_llm_start(self, context: RunContextWrapper[SupportRunContext],
                           agent: Agent[SupportRunContext], system_prompt: str | None,
                           input_items: list[TResponseInputItem]) -> None:
        context.context.model_started = time.perf_counter()

    async def on_llm_end(self, context: RunContextWrapper[SupportRunContext],
                         agent: Agent[SupportRunContext], response: ModelResponse) -> None:
        ctx = context.context
        self.latency.observe(time.perf_counter() - ctx.model_started)
        ctx.model_calls += 1
        ctx.input_tokens += response.usage.input_tokens
        ctx.output_tokens += response.usage.output_tokens


@dataclass(frozen=True)
class _Route:
    """One way to run the model: its name, run settings, usage hooks and price."""

    name: str
    run_config: RunConfig
    usage: _ModelUsage
    price: ModelPrice


LOCAL_MODEL = "local-deterministic"


class SupportAgent:
    """The configured agent and the run settings that go with it, and the local model's as
    the fallback once a tenant's model budget is spent (`run(..., local=True)`)."""

    def __init__(self, settings: Settings, *, model: Model | None = None) -> None:
        key = settings.openai.api_key
        # Runs that spend the tenant's model budget: OpenAI's (a custom model is a test's).
        self.metered = model is None and key is not None
        if model is not None:
            name, run_config = "custom", RunConfig(tracing_disabled=True)
            agent_model: Model | str = model
        elif key is not None:
            name = settings.openai.model
            provider = OpenAIProvider(api_key=key.get_secret_value(),
                                      base_url=settings.openai.base_url, use_responses=True)
            run_config = RunConfig(model_provider=provider, tracing_disabled=True)
            agent_model = settings.openai.model
        else:
            name, run_config = LOCAL_MODEL, RunConfig(tracing_disabled=True)
            agent_model = LocalSupportModel()
        prices = settings.openai.prices
        self._route = _Route(name, run_config, _ModelUsage(name),
                             prices.get(name, ModelPrice()))
        self._local = _Route(LOCAL_MODEL, RunConfig(model=LocalSupportModel(),
                                                    tracing_disabled=True),
                             _ModelUsage(LOCAL_MODEL), prices.get(LOCAL_MODEL, ModelPrice()))
        self.model_name = name
        self.agent: Agent[SupportRunContext] = Agent(
            name="customer-success-fte",
            instructions=_instructions,
            tools=list(ALL_TOOLS),
            model=agent_model,
            model_settings=ModelSettings(parallel_tool_calls=False),
            # The reply is staged by send_response or escalate_to_human; asking the model again
            # would only echo it.
            tool_use_behavior=_stop_once_replied,
        )

    async def run(self, ctx: SupportRunContext, *, local: bool = False) -> AgentOutcome:
        """Run the agent on one message: on the configured model, or on the local one
        (`local`: the tenant's model budget is spent)."""
        route = self._local if local else self._route
        started = time.perf_counter()
        # The customer's recent messages decide where the sentiment line is (frustrated
        # recently: a person looks sooner); get_customer_history returns the same list.
        ctx.history = await operations.customer_history(
            ctx.pool, ctx.tenant_id, ctx.customer_id, current_message_id=ctx.message_id)
        prescreen = escalation.detect(ctx.words, frustrated_before=frustration.frustrated_recently(
            ctx.history, ctx.now, score=sentiment_score))
        ctx.sentiment = prescreen.sentiment
        ctx.mild_frustration = prescreen.mild_frustration
        ctx.security_incident = prescreen.security_incident
        ctx.language = language.detect(ctx.content)
        ctx.escalate(*(r for r in prescreen.reasons if r != "prompt_injection"))
        # Blocking, and first: a message that tries to re-program the agent reaches no tool.
        if guardrails.check_input(ctx.content + " " + (ctx.subject or "")).tripped:
            _refuse(ctx)
        elif not ctx.escalation_reasons and is_closing(ctx.content):
            _close(ctx)
        else:
            await self._answer(ctx, route)
        _enforce(ctx)
        await _ensure_ticket(ctx)
        tokens = ctx.input_tokens + ctx.output_tokens
        self._observe(ctx, route)
        return AgentOutcome(
            reply=ctx.reply or HOLDING_REPLY,
            escalation_reasons=tuple(ctx.escalation_reasons),
            kb_hit=ctx.kb_hit,
            kb_topic=ctx.kb_topic if not ctx.escalation_reasons else None,
            sentiment=ctx.sentiment,
            latency_ms=int((time.perf_counter() - started) * 1000),
            tokens=tokens or None,
            model=route.name,
            guardrail=ctx.guardrail,
            model_calls=ctx.model_calls,
            input_tokens=ctx.input_tokens,
            output_tokens=ctx.output_tokens,
            resolved=ctx.resolved,
        )

    @staticmethod
    def _observe(ctx: SupportRunContext, route: _Route) -> None:
        """Record the run's model use and its estimated cost."""
        model = route.name
        KB_LOOKUPS.labels("hit" if ctx.kb_hit else "miss").inc()
        MODEL_CALLS.labels(model).observe(ctx.model_calls)
        TOKENS.labels(model, "input").observe(ctx.input_tokens)
        TOKENS.labels(model, "output").observe(ctx.output_tokens)
        COST.labels(model).observe(route.price.cost(input_tokens=ctx.input_tokens,
                                                    output_tokens=ctx.output_tokens))

    async def _answer(self, ctx: SupportRunContext, route: _Route) -> None:
        """Run the steps that need no judgement, then the model on their results."""
        steps = await prerun(ctx)
        try:
            result = await Runner.run(self.agent, _model_input(ctx, steps), context=ctx,
                                      max_turns=MAX_TURNS, run_config=route.run_config,
                                      hooks=route.usage)
            if ctx.reply is None and result.final_output:
                ctx.reply = str(result.final_output).strip()
        except MaxTurnsExceeded:
            log.warning("agent_budget_exhausted", tool_calls=len(ctx.tool_calls))
            ctx.escalate("unknown_high_risk")
        except (openai.APIError, ModelBehaviorError) as exc:
            # The model's own failures (a tool's are not), by class: a bounded label. The
            # consumer loop retries the run.
            MODEL_ERRORS.labels(route.name, type(exc).__name__).inc()
            raise


def _close(ctx: SupportRunContext) -> None:
    """A closing: a courteous reply in the channel's voice and language, no search, no model;
    the ticket is resolved as the customer confirmed."""
    ctx.resolved = True
    ctx.reply = notes.closing_reply(ctx.channel, ctx.language)


def _refuse(ctx: SupportRunContext) -> None:
    """A prompt injection: no tool ran; the ticket is flagged and the reply is safe."""
    ctx.escalation_reasons.insert(0, "prompt_injection")
    ctx.reply = SAFE_REPLY


def _model_input(ctx: SupportRunContext,
                 steps: Sequence[tuple[str, dict[str, Any], str]]) -> list[TResponseInputItem]:
    """Return the customer's message, then each step that ran in code as the tool call and
    result it is: the customer's words and the passages stay data, as any tool result is."""
    items: list[TResponseInputItem] = [{"role": "user", "content": ctx.words}]
    for name, arguments, output in steps:
        call_id = f"call_prerun_{name}"
        items.append({"type": "function_call", "call_id": call_id, "name": name,
                      "arguments": json.dumps(arguments)})
        items.append({"type": "function_call_output", "call_id": call_id, "output": output})
    return items


async def _ensure_ticket(ctx: SupportRunContext) -> None:
    """Every message ends with a ticket, even when no step opened one (a refused message)."""
    if ctx.ticket_id is None or ctx.ticket_number is None:
        ticket = await operations.open_ticket(
            ctx.pool, ctx.tenant_id, customer_id=ctx.customer_id,
            conversation_id=ctx.conversation_id, channel=ctx.channel,
            message_id=ctx.message_id, subject=ctx.ticket_subject,
            priority=ctx.ticket_priority)
        ctx.ticket_id, ctx.ticket_number = ticket.id, ticket.number


def _enforce(ctx: SupportRunContext) -> None:
    """Whatever the model did: an ungrounded answer or a needed escalation never goes out, and
    a security incident's reply is the approved one with the safe next steps."""
    if not ctx.escalation_reasons and not ctx.kb_hit and not ctx.resolved:
        ctx.escalate("no_kb_match")
    if ctx.escalation_reasons and ctx.reply != SAFE_REPLY and \
            not order.called(ctx.tool_calls, "escalate_to_human"):
        ctx.reply = HOLDING_REPLY  # the model answered although a human must
    if ctx.security_incident and "unknown_high_risk" in ctx.escalation_reasons and \
            ctx.reply != SAFE_REPLY:
        ctx.reply = notes.security_reply(ctx.channel, ctx.language)
