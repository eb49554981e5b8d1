"""Helpers the tests share (clocks, databases, factories, RPC helpers); fixtures stay in
the conftest modules, which import from here. Never import helpers from a conftest."""
