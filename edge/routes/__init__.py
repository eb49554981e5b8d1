"""One router per resource, each mounted under both ``/api/v1`` and ``/v1``."""
