"""The OpenAI-compatible API: one router per resource (``chat``, ``images``, ``models``,
``usage``, ``status``), each mounted under both ``/api/v1`` and ``/v1``, beside the
request plumbing they share (``accounting``, ``bodies``, ``uploads``). Two routers are
mounted at the root instead: ``status.liveness`` (``/healthz``) and ``images.public``
(stored images)."""
