"""The status page's data: probes of every component, run every
``DRAFTER_STATUS_PROBE_INTERVAL_S`` (``probes``), and the hourly history they fill
(``history``)."""
