"""`FTE_SUGGESTIONS_*`: the suggestion pipeline, its spam rules and the feed (issue 19 §4)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from production.config.fields import group


class SuggestionSettings(BaseSettings):
    model_config = group("FTE_SUGGESTIONS_")

    # The scheduler's pass: claim this many undecided firings this often.
    interval_s: float = Field(5.0, gt=0)
    batch: int = Field(100, ge=1, le=1_000)
    # A suggestion nobody decided expires after this many days; a snooze lasts at most that.
    expiry_days: float = Field(28.0, gt=0)
    # No spam (domain/proactive/spam.py).
    max_per_customer_day: int = Field(1, ge=0, le=10)
    max_per_trigger: int = Field(3, ge=0)
    trigger_window_days: float = Field(28.0, gt=0)
    dismissals_to_pause: int = Field(5, ge=1)
    pause_days: float = Field(31.0, ge=0)
    # Who proposes: "auto" is OpenAI when OPENAI_API_KEY is set (behind the cost gate), else
    # the local deterministic proposer; "local" is always the local one.
    proposer: Literal["auto", "local"] = "auto"
    max_output_tokens: int = Field(400, ge=50, le=4_000)
    # The feed's ranking (domain/proactive/acceptance.py): a past decision's weight halves
    # every `acceptance_half_life_days`; the proposer's confidence is worth
    # `acceptance_prior_strength` decisions.
    acceptance_half_life_days: float = Field(30.0, gt=0)
    acceptance_prior_strength: float = Field(2.0, gt=0)
    acceptance_horizon_days: float = Field(365.0, gt=0)
