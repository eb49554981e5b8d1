"""Email notifications: the events that send them, in the background (``notifier``), the
users' preferences and the once-a-day record of quota warnings (``prefs``), and SMTP
(``mailer``)."""
