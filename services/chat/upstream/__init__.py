"""The HTTP side of the chat service, fenced off from the translation: the Messages API
request path on the anthropic SDK's client (``client``), its HTTP/1.1 transport
(``transport``), the SSE event parser (``events``) and the one table from upstream
failures to Drafter errors (``errors``). The benchmarks in ``bench/`` are why the first
three exist instead of the SDK's own request path; a reader of the translation can skip
them."""
