"""People and their credentials: users (``users``), API keys (``api_keys``), signing in
and web sessions (``identity``), deleting an account (``deletion``), and the secrets and
digests they are made of (``tokens``)."""
