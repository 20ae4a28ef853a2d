"""Suggestions (issue 19 §4): `pipeline` turns stored trigger firings into suggestions (spam
rules, the cost gate, the proposer, the policy); `review` is a person's side of the feed
(approve, edit then approve, dismiss with a reason, snooze); `execute` runs an action with its
audit row and diff. No action deletes anything."""
