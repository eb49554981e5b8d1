"""OpenAI's Responses API translated to Anthropic's Messages API, beside the chat
completions translation: ``request`` (the body → the upstream's parameters, through the
same rules as chat completions), ``output`` (the upstream's events → Responses events),
``respond`` (one call, over the chat service's one upstream client)."""
