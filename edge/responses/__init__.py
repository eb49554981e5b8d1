"""OpenAI's Responses API (``/v1/responses``): the routes, the translation to the chat
service, and the stored responses kept by the accounts service (``store``)."""
