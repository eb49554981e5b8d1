"""Stored responses of the Responses API: the rows (``store``) and their retention sweep
(``retention``). The ResponsesService (``servicers/responses.py``) serves them."""
