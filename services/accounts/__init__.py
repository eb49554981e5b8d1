"""The accounts service: users, API keys, plans, daily quotas and usage records."""
