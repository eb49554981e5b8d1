"""Daily quotas: the QuotaStore interface and its rules (``store``) and its three
stores, in SQL (``sql``), Redis (``redis``) and this process's memory (``memory``)."""
