"""Pure domain: message shapes, identity rules, formatting, text folding, the escalation and
sentiment rules, and where a text names a person (PII). No I/O here."""
