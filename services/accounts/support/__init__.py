"""Customer support: tickets and their replies (``tickets``)."""
