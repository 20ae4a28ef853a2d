"""Build the agent once per process and run it on one inbound message.

Around the model's run sit the deterministic rules: the pre-screen (sentiment and the
escalation detector) is handed to the model in its instructions, prompt injection is stopped by
a blocking input guardrail before any tool runs, and after the run every reason the detector
found is enforced whatever the model did, so an answer never goes out where a human must reply.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog
from agents import (
    Agent,
    FunctionToolResult,
    GuardrailFunctionOutput,
    InputGuardrailTripwireTriggered,
    Model,
    ModelSettings,
    RunConfig,
    RunContextWrapper,
    Runner,
    ToolsToFinalOutputResult,
    TResponseInputItem,
    input_guardrail,
)
from agents.exceptions import MaxTurnsExceeded
from agents.models.openai_provider import OpenAIProvider

from production.agent import escalation, guardrails, operations
from production.agent.context import SupportRunContext
from production.agent.local_model import LocalSupportModel
from production.agent.prompts import SYSTEM_PROMPT, prescreen_note
from production.agent.tools import ALL_TOOLS, HOLDING_REPLY
from production.config import Settings

log = structlog.get_logger(__name__)

# Model turns of one run: the five tools, a second search, and slack for a refused call.
MAX_TURNS = 10

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

    @property
    def escalation_reason(self) -> str | None:
        return self.escalation_reasons[0] if self.escalation_reasons else None


def _instructions(wrapper: RunContextWrapper[SupportRunContext],
                  agent: Agent[SupportRunContext]) -> str:
    ctx = wrapper.context
    return f"{SYSTEM_PROMPT}\n{prescreen_note(ctx.channel, ctx.sentiment, ctx.escalation_reasons)}"


def _stop_once_replied(wrapper: RunContextWrapper[SupportRunContext],
                       results: list[FunctionToolResult]) -> ToolsToFinalOutputResult:
    """End the run when send_response was accepted (a refused call lets the model go on)."""
    reply = wrapper.context.reply
    return ToolsToFinalOutputResult(is_final_output=reply is not None, final_output=reply)


@input_guardrail(name="prompt_injection", run_in_parallel=False)
async def _injection_guardrail(wrapper: RunContextWrapper[SupportRunContext],
                               agent: Agent[SupportRunContext],
                               prompt: str | list[TResponseInputItem]) -> GuardrailFunctionOutput:
    check = guardrails.check_input(wrapper.context.content + " " + (wrapper.context.subject or ""))
    return GuardrailFunctionOutput(output_info=check.detail, tripwire_triggered=check.tripped)


class SupportAgent:
    """The configured agent and the run settings that go with it."""

    def __init__(self, settings: Settings, *, model: Model | None = None) -> None:
        key = settings.openai.api_key
        if model is not None:
            self.model_name = "custom"
            self._run_config = RunConfig(tracing_disabled=True)
            agent_model: Model | str = model
        elif key is not None:
            self.model_name = settings.openai.model
            provider = OpenAIProvider(api_key=key.get_secret_value(),
                                      base_url=settings.openai.base_url, use_responses=True)
            self._run_config = RunConfig(model_provider=provider, tracing_disabled=True)
            agent_model = settings.openai.model
        else:
            self.model_name = "local-deterministic"
            self._run_config = RunConfig(tracing_disabled=True)
            agent_model = LocalSupportModel()
        self.agent: Agent[SupportRunContext] = Agent(
            name="customer-success-fte",
            instructions=_instructions,
            tools=list(ALL_TOOLS),
            model=agent_model,
            model_settings=ModelSettings(parallel_tool_calls=False),
            input_guardrails=[_injection_guardrail],
            # The reply is staged by send_response; asking the model again would only echo it.
            tool_use_behavior=_stop_once_replied,
        )

    async def run(self, ctx: SupportRunContext) -> AgentOutcome:
        started = time.perf_counter()
        prescreen = escalation.detect(_text(ctx))
        ctx.sentiment = prescreen.sentiment
        ctx.escalate(*(r for r in prescreen.reasons if r != "prompt_injection"))
        tokens: int | None = None
        try:
            result = await Runner.run(self.agent, _text(ctx), context=ctx, max_turns=MAX_TURNS,
                                      run_config=self._run_config)
            tokens = result.context_wrapper.usage.total_tokens or None
            if ctx.reply is None and result.final_output:
                ctx.reply = str(result.final_output).strip()
        except InputGuardrailTripwireTriggered:
            await self._refuse(ctx)
        except MaxTurnsExceeded:
            log.warning("agent_budget_exhausted", tool_calls=len(ctx.tool_calls))
            ctx.escalate("unknown_high_risk")
        _enforce(ctx)
        await _ensure_ticket(ctx)
        return AgentOutcome(
            reply=ctx.reply or HOLDING_REPLY,
            escalation_reasons=tuple(ctx.escalation_reasons),
            kb_hit=ctx.kb_hit,
            kb_topic=ctx.kb_topic if not ctx.escalation_reasons else None,
            sentiment=ctx.sentiment,
            latency_ms=int((time.perf_counter() - started) * 1000),
            tokens=tokens,
            model=self.model_name,
            guardrail=ctx.guardrail,
        )

    async def _refuse(self, ctx: SupportRunContext) -> None:
        """A prompt injection: no tool ran; the ticket is flagged and the reply is safe."""
        ctx.escalation_reasons.insert(0, "prompt_injection")
        ctx.reply = SAFE_REPLY


async def _ensure_ticket(ctx: SupportRunContext) -> None:
    """Every message ends with a ticket, even when the model never opened one."""
    if ctx.ticket_id is None or ctx.ticket_number is None:
        ticket = await operations.open_ticket(
            ctx.pool, ctx.tenant_id, customer_id=ctx.customer_id,
            conversation_id=ctx.conversation_id, channel=ctx.channel,
            message_id=ctx.message_id, subject=(ctx.subject or _first_line(ctx.content))[:120],
            priority="high" if ctx.escalation_reasons else "medium")
        ctx.ticket_id, ctx.ticket_number = ticket.id, ticket.number


def _first_line(text: str) -> str:
    return " ".join(text.split())[:120] or "Customer request"


def _text(ctx: SupportRunContext) -> str:
    return ctx.content if not ctx.subject else f"Subject: {ctx.subject}\n\n{ctx.content}"


def _enforce(ctx: SupportRunContext) -> None:
    """Whatever the model did: an ungrounded answer or a needed escalation never goes out."""
    if not ctx.escalation_reasons and not ctx.kb_hit:
        ctx.escalate("no_kb_match")
    if ctx.escalation_reasons and ctx.reply != SAFE_REPLY and not ctx.called("escalate_to_human"):
        ctx.reply = HOLDING_REPLY  # the model answered although a human must
