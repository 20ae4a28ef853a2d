"""Pure domain: message shapes, identity rules, formatting. No I/O here."""
