"""Model-table rows the tests add to the built-in table (DRAFTER_MODELS_FILE), as an
operator would."""

from __future__ import annotations

from importlib import resources

BUILT_IN = resources.files("drafter").joinpath("models.toml").read_text()

# A newer family, added without a release: adaptive thinking only, xhigh effort, no
# sampling changes.
OPUS_47 = """
[[models]]
id = "claude-opus-4-7"
kind = "chat"
owned_by = "anthropic"
created = 2026-04-16
upstream = "claude-opus-4-7"
context_window = 1_000_000
max_output_tokens = 128_000
thinking = ["adaptive"]
efforts = ["low", "medium", "high", "xhigh", "max"]
sampling = []
structured_outputs = true
"""
