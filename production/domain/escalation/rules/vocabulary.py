"""Regex pieces more than one rule set reads."""

from __future__ import annotations

from typing import Final

PAY: Final = (r"(?:cost|costs|costing|charge|charged|charges|pay|paying|be billed|billed|run us|"
              r"set us back|come to|comes to|add up to|adds up to)")
# Things a customer cancels that are not the subscription.
NOT_SUBSCRIPTION: Final = (
    r"(?:task|tasks|meeting|meetings|invite|invites|invitation|invitations|export|"
    r"exports|import|imports|event|events|subtask|subtasks|sync|upload|uploads|"
    r"request|requests|reminder|reminders|notifications?|changes?|edit|edits|"
    r"job|jobs|download|recurrence|occurrence|series|transfer|ownership|"
    r"deletion|email change|booking)")
