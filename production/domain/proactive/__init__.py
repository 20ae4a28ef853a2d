"""The proactive layer's pure parts: triggers, the health score, predictions, the cost gate
and the suggestions' spam rules (issue 19). Nothing here reads a clock or a database: every
function takes the facts and `now` from its caller."""
