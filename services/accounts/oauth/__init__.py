"""OAuth 2.0 for third-party apps: the authorization code grant with PKCE, revocation
and a user's connections (``provider``), the apps themselves (``apps``), and the rules
without I/O: scopes, PKCE, redirect URIs, secrets, RFC 6749 errors (``rules``)."""
