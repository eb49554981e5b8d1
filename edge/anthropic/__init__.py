"""Anthropic's Messages API at ``/v1/messages``: a passthrough, not a translation.

``routes`` (the HTTP face: ``POST /messages``, ``POST /messages/count_tokens``, the base
URL probe), ``request`` (the little of the body the edge reads, and the headers it passes
on), ``passthrough`` (one call to the chat service's ``Messages``: its answer as JSON or
as the upstream's own server-sent events, and its settlement). Errors take Anthropic's
shape from the one status table (``edge/errors.py``).
"""
