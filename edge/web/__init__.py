"""The browser side of the edge, server-rendered (Jinja2 ``templates/``, ``static/``) and
mounted at the root: sign-in (``auth``), the dashboard (``dashboard/``) and the status page
(``status_page``); and what they share — the per-app context and ``render``
(``context``), forms, CSRF, signed session cookies, the secret key and the rate limiter of
failed attempts. No business rules: every figure and decision is the accounts service's."""
