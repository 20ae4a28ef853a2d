"""The customer-success agent: OpenAI Agents SDK agent, tools, prompts and the local model."""
