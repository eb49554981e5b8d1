"""The HTTP side of the chat service, fenced off from the translation: the Messages API
request path (``client``) with its configuration (``config``), retry policy (``retry``)
and failures (``exceptions``), its HTTP/1.1 transport (``transport``), the SSE event
parser (``events``), the one table from upstream failures to Drafter errors (``errors``),
and the anthropic SDK only for a credential that needs it (``sdk``). The benchmarks in
``bench/`` are why the request path is ours instead of the SDK's, and the SDK's import
cost is why its configuration, retries and exceptions are too (``client``'s docstring); a
reader of the translation can skip them."""
