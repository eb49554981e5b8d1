"""Usage: the usage records, written once per request at Settle and read back for
reports and quota rebuilds (``log``), and the figures built from them for the usage
API and the dashboard (``report``)."""
