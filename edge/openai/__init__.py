"""OpenAI wire format ⇄ Drafter protos: request models (``protocol``,
``images_protocol``), translation (``to_proto``, ``from_proto``) and SSE frames (``sse``),
all pure, no I/O; and ``chat_stream``, which drives one streamed completion with them."""
