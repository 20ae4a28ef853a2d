"""What must reach people who can act at once, besides account-security incidents
(`security_incident`): mass data loss, the press, self-harm and threats of violence.
"""

from __future__ import annotations

from production.domain.escalation.rule_set import RuleSet

RULES = RuleSet(
    reason="unknown_high_risk",
    patterns=(
        # data loss
        r"\b(?:all|every|entire|whole|most|half)\s+(?:of\s+)?(?:my|our|the)?\s*(?:\w+\s+)?"
        r"(?:projects?|data|tasks|work|files|workspace|boards?|history|content|attachments)\s+"
        r"(?:\w+\s+){0,2}?(?:is\s+|are\s+|has\s+|have\s+|was\s+|were\s+|got\s+|just\s+|"
        r"suddenly\s+)?(?:been\s+)?(?:gone|disappeared|vanished|deleted|lost|missing|wiped|"
        r"erased|empty|blank)\b",
        r"\b(?:projects|data|workspace|tasks|everything|files|boards)\s+(?:seem|seems|appear|"
        r"appears)\s+to\s+(?:be|have been)\s+(?:gone|wiped|erased|deleted|lost|missing)\b",
        r"\b(?:projects|data|workspace|tasks|everything|files|boards)\s+(?:\w+\s+){0,2}?"
        r"(?:disappeared|vanished|wiped|gone missing|been wiped|been erased|is gone|are gone|"
        r"was wiped)\b",
        r"\b(?:lost|lose|losing)\s+(?:all|everything|years|months|our entire|my entire|"
        r"the entire|all of)\b|\bdata loss\b|\beverything (?:is |was |has been )?(?:gone|wiped|"
        r"lost)\b",
        # press
        r"\b(?:journalist|journalists|reporter|reporters|press inquiry|press enquiry|"
        r"media inquiry|media enquiry|on the record|going to the press|go to the press|"
        r"going public|go public|contact(?:ing)? the (?:press|media)|tell the (?:press|media)|"
        r"techcrunch|the verge|new york times|wall street journal|bloomberg|reuters|"
        r"forbes|financial times|business insider|zdnet|venturebeat|the guardian|bbc|cnn)\b",
        r"\bwriting (?:an?|the) (?:article|story|piece|feature|report|column)\b|"
        r"\bnews (?:story|article|piece|report|outlet|site)\b|"
        r"\b(?:your )?(?:pr|press|media|communications) (?:team|department|office|contact)\b|"
        r"\bfor (?:an? |our |my )?(?:article|story|newspaper|magazine|podcast|publication)\b",
        # self-harm and threats
        r"\b(?:kill(?:ing)? myself|hurt(?:ing)? myself|harm(?:ing)? myself|end(?:ing)? my life|"
        r"take my (?:own )?life|suicid\w*|self[- ]harm|don't want to (?:live|be alive)|"
        r"want to die|better off dead|no reason to live|cut myself|end it all|"
        r"(?:do|done) (?:something |anything )?to myself|(?:don't|do not) (?:know if i |think i |"
        r"really )?want to (?:be here|live|exist|go on|wake up)|me voy a matar|quiero morir|"
        r"suicidarme|me tuer|mich umbringen|me matar|khudkushi|khud kushi)\b",
        r"\b(?:i'll|i will|i'm going to|i am going to|gonna|we will|we'll|i'd like to|i want to)\s+"
        r"(?:\w+\s+)?(?:kill|hurt|shoot|stab|beat up|attack|strangle|punch)\s+(?:you|your|them|"
        r"everyone|somebody|someone|him|her)\b",
        r"\b(?:destroy|ruin|burn down)\s+(?:you|your (?:company|business|office|reputation|"
        r"lives))\b|\b(?:watch your back|i know where (?:you|your)|you'll regret this|"
        r"you will regret this|come to your (?:office|house|home)|bomb threat|bomb your)\b",
    ),
    examples=(
        "all my projects disappeared",
        "journalist from the Financial Times here, can you comment on the outage?",
        "I'll hurt myself",
        "Everything in our workspace disappeared overnight.",
        "I'm a reporter at a tech magazine writing about your outage.",
        "If this isn't fixed I don't know what I'll do to myself.",
        "I'm going to kill you all.",
        "We lost all our data after the sync.",
        "I'm writing a piece for a tech blog about project management tools.",
        "I can't take this anymore, I want to end it all.",
        "Our whole team lost access and 2 years of data seem to be wiped.",
        "I need a comment from your PR team for a news story.",
        "Our workspace got wiped overnight, every project is empty.",
        "I feel like ending my life, nothing works.",
        "all our boards are blank since this morning!!",
        "I'm a journalist with Bloomberg, can we talk about the data incident?",
    ),
    near_misses=(
        "I deleted a task by mistake, can I get it back?",
        "The app is leaking memory on Android.",
    ),
)
