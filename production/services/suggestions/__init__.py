"""Suggestions (issue 19 §4): `pipeline` turns stored trigger firings into suggestions (spam
rules, the cost gate, the proposer, the policy); `review` is a person's side of the feed
(approve, edit then approve, dismiss with a reason, snooze). Actions run only through the
C.A.R.E. executor's side for suggestions (production/care/suggestion_executor.py), with their
audit row and diff. No action deletes anything."""
