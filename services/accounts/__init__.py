"""The accounts service: users, API keys, plans, daily quotas, usage records, OAuth apps,
sign-in, notifications, support tickets and the status history, behind six gRPC services.

Where things are (each subpackage's docstring says more):

* ``main`` starts it (the composition root); ``settings``, ``errors``; ``vocab`` names
  usage kinds and outcomes; ``convert`` builds every proto message; ``servicers/`` holds
  one thin servicer per proto service.
* ``admission/`` is the hot path (Authorize, Settle, credentials and their cache),
  ``quota/`` the daily counters, ``usage/`` the usage records and reports.
* ``users/``, ``plans/``, ``oauth/``, ``notifications/``, ``status/``, ``support/``: one
  folder per resource, with its rules and its SQL.
* ``db/``: engines, every table, migrations. ``tasks`` and ``housekeeping``: the
  background work. ``admin/``: the ``drafter admin`` commands.
"""
