"""Whether an inbound message is an explicit rejection: the signal that moves a customer to
`lost` (state_engine rule 1).

Pure and conservative. A rejection is a decision the customer states, not a doubt or a
question: "unsubscribe me", "stop emailing us", "we have decided to cancel", "we are moving
to Asana", "please cancel our subscription", "not interested", or a bare "STOP" (the opt-out
word of messaging channels). "How do I cancel?", "we might cancel", "I'm thinking of leaving"
and "cancel the export" are not: the first is a question the FTE answers, the next two are
objections a person handles (the escalation detector flags them), the last is about a task.
A message that negates the decision ("we are NOT cancelling", "don't unsubscribe me") is not.
"""

from __future__ import annotations

import re

_SUBSCRIPTION = (r"(?:subscription|subscriptions|plan|contract|membership|account|accounts|"
                 r"service|licen[cs]es?|seats?|techcorp)")
_COMPETITOR = (r"(?:asana|trello|monday(?:\.com)?|jira|clickup|notion|basecamp|wrike|smartsheet|"
               r"linear|airtable|todoist|a competitor|(?:another|a different|a cheaper|some other)"
               r" (?:tool|provider|vendor|app|service|platform|product|solution))")

_REJECTIONS = re.compile("|".join((
    r"^\s*(?:stop|unsubscribe|opt[ -]?out)\s*[.!]*\s*$",
    r"\bunsubscribe (?:me|us)\b|\bplease unsubscribe\b|\bopt (?:me|us) out\b",
    r"\bremove (?:me|us|my (?:e-?mail|number|address)) from (?:your|the|this|all) "
    r"(?:\w+ )?(?:list|lists|emails|messages|newsletters?)\b",
    r"\b(?:stop|quit|cease) (?:e-?mailing|messaging|contacting|texting|calling|writing to|"
    r"sending (?:me|us) (?:e-?mails|messages))(?: me| us)?\b",
    r"\b(?:do not|don't|never) (?:e-?mail|message|contact|text|call|write to) (?:me|us)"
    r"(?: again| anymore| any more| ever again)\b",
    r"\b(?:(?:i|we)(?: am| are|'m|'re) )?(?:no longer|not) interested\b",
    r"\b(?:we|i)(?: have|'ve)? (?:decided|chosen|chose) to (?:cancel|terminate|end|leave|"
    r"quit|switch|move|go with|stop using)\b",
    rf"\b(?:we|i)(?: are| am|'re|'m) (?:cancel+ing|terminating|ending|leaving|quitting) "
    rf"(?:(?:our|my|the|this) (?:\w+ )?{_SUBSCRIPTION}|you|techcorp)\b",
    rf"\b(?:we|i)(?: are| am|'re|'m| have|'ve) (?:switching|moving|migrating|switched|moved|"
    rf"migrated|gone|going) (?:over )?to {_COMPETITOR}\b",
    rf"\b(?:please )?(?:cancel|terminate|close) (?:our|my) (?:\w+ )?{_SUBSCRIPTION}"
    rf"(?: (?:now|today|immediately|effective immediately))?\s*(?:[.!]|$)",
)), re.IGNORECASE)

_NEGATED = re.compile(
    r"\b(?:not|never|n't|no longer)\s+(?:\w+\s+)?(?:cancel+ing|leaving|switching|moving|"
    r"unsubscrib\w*|quitting)\b|\bdon't (?:unsubscribe|remove|stop)\b|\bno need to\b",
    re.IGNORECASE)


def is_explicit_rejection(text: str) -> bool:
    """Return True when the message states that the customer rejects us (see the module)."""
    text = text.replace("\u2019", "'")  # typographic apostrophes, as mail clients write them
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        if "?" in sentence:
            continue  # a question, not a decision
        if _REJECTIONS.search(sentence) and not _NEGATED.search(sentence):
            return True
    return False
