"""Admission, the hot path: who a credential belongs to (``credentials``, cached by
``credential_cache``), Authorize and Settle (``authorize``), and reservation ids that
carry their own reservation (``reservations``)."""
