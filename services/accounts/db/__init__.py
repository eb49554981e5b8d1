"""The accounts database: engines and migrations (``engine``, ``sqlite_inline``,
``migrations/``), every table (``tables``, with the ``types`` they share), keyword-only
row functions on users and API keys (``crud``) and the dialect's upsert (``upsert``)."""
