"""Build the agent once per process and run it on one inbound message."""

from __future__ import annotations

import time
from dataclasses import dataclass

from agents import Agent, Model, ModelSettings, RunConfig, Runner, StopAtTools
from agents.models.openai_provider import OpenAIProvider

from production.agent.context import SupportRunContext
from production.agent.local_model import LocalSupportModel
from production.agent.prompts import SYSTEM_PROMPT
from production.agent.tools import ALL_TOOLS
from production.config import Settings

# Tool-call budget: the five tools plus one retry of the search, and a little slack.
MAX_TURNS = 8


@dataclass(frozen=True)
class AgentOutcome:
    reply: str
    escalation_reason: str | None
    kb_hit: bool
    latency_ms: int
    tokens: int | None
    model: str


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
            instructions=SYSTEM_PROMPT,
            tools=list(ALL_TOOLS),
            model=agent_model,
            model_settings=ModelSettings(parallel_tool_calls=False),
            # The reply is staged by send_response; asking the model again would only echo it.
            tool_use_behavior=StopAtTools(stop_at_tool_names=["send_response"]),
        )

    async def run(self, ctx: SupportRunContext) -> AgentOutcome:
        started = time.perf_counter()
        prompt = ctx.content if not ctx.subject else f"Subject: {ctx.subject}\n\n{ctx.content}"
        result = await Runner.run(
            self.agent, prompt, context=ctx, max_turns=MAX_TURNS, run_config=self._run_config
        )
        usage = result.context_wrapper.usage
        reply = ctx.reply or str(result.final_output or "").strip()
        return AgentOutcome(
            reply=reply,
            escalation_reason=ctx.escalation_reason,
            kb_hit=ctx.kb_hit,
            latency_ms=int((time.perf_counter() - started) * 1000),
            tokens=usage.total_tokens or None,
            model=self.model_name,
        )
