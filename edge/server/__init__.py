"""How the edge is served, apart from what it serves: uvicorn set up for Drafter
(``uvicorn``), its write-coalescing HTTP protocol (``http_protocol``) and the SSE response
with keep-alives (``event_stream``). Performance plumbing: a reader following a request
through the edge can skip it."""
