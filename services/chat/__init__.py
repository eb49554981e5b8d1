"""The chat service: OpenAI-shaped chat requests (as proto) to Anthropic's Messages API."""
