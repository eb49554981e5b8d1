"""OpenAI wire format ⇄ Drafter protos: request models, translation and SSE, no I/O."""
