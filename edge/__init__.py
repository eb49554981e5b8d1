"""The HTTP edge: OpenAI-compatible REST, SSE, OAuth and pages, over the gRPC services.
``app.py`` has the map of where things are."""
