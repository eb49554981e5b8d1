"""The HTTP edge: OpenAI-compatible REST, SSE, OAuth and pages, over the gRPC services."""
