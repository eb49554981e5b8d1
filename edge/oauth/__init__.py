"""The OAuth 2.0 provider's HTTP side (RFC 6749 / 7636 / 7009): the authorization endpoint
with its consent page (``authorize``), the token and revocation endpoints (``token``), and
their RFC 6749 error bodies (``errors``). Mounted at the root; the rules themselves are the
accounts service's OAuthService."""
