"""The model table (drafter/models.toml, or DRAFTER_MODELS_FILE): live upstream ids, the
reference's names as aliases, and a file that does not validate named in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from drafter.model_table import ModelTableError, load_model_table, parse_model_table
from tests.support.model_rows import BUILT_IN, OPUS_47

# What Anthropic's Messages API serves (its models overview and the anthropic SDK's
# ModelParam list): the table may send only these.
LIVE_UPSTREAM_IDS = {
    "claude-haiku-4-5-20251001",
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-5-20251101",
    "claude-sonnet-4-6",
    "claude-opus-4-6",
    "claude-sonnet-5",  # Anthropic's "Migrating to Claude Sonnet 5"
    "claude-opus-5-5",  # Anthropic's "What's new in Claude Opus 5.5"
}
# The public reference's ids and dated ids, which clients keep using.
REFERENCE_NAMES = {
    "claude-haiku-4-5": "claude-haiku-4-5",
    "claude-haiku-4-5-20250506": "claude-haiku-4-5",
    "claude-sonnet-4-5-20250514": "claude-sonnet-4-5",
    "claude-sonnet-4-6-20250610": "claude-sonnet-4-6",
    "claude-opus-4-5-20250514": "claude-opus-4-5",
    "claude-opus-4-6-20250610": "claude-opus-4-6",
    "claude-haiku": "claude-haiku-4-5",
    "nano-banano-pro": "nano-banano-pro",
}


def test_chat_models_are_sent_as_live_upstream_ids() -> None:
    table = load_model_table()

    chat = {m.upstream for m in table if m.kind == "chat"}

    assert chat == LIVE_UPSTREAM_IDS


@pytest.mark.parametrize(("name", "model_id"), REFERENCE_NAMES.items())
def test_the_reference_names_stay_accepted(name: str, model_id: str) -> None:
    assert load_model_table().resolve(name.upper()).id == model_id


def test_the_providers_own_ids_are_accepted_too() -> None:
    table = load_model_table()

    assert table.resolve("claude-sonnet-4-5-20250929").id == "claude-sonnet-4-5"
    assert table.resolve("claude-opus-4-5-20251101").id == "claude-opus-4-5"


def test_a_models_file_adds_a_model_without_a_release(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text(BUILT_IN + OPUS_47)

    opus = load_model_table(path).resolve("claude-opus-4-7")

    assert (opus.upstream, opus.thinking_style, opus.sampling) == (
        "claude-opus-4-7",
        "adaptive",
        (),
    )


def test_the_upstream_timeout_defaults_to_the_sdks_and_is_set_per_model(tmp_path: Path) -> None:
    assert {m.upstream_timeout_s for m in load_model_table(None)} == {600.0}
    path = tmp_path / "models.toml"
    path.write_text(BUILT_IN + OPUS_47 + "upstream_timeout_s = 30\n")

    assert load_model_table(path).resolve("claude-opus-4-7").upstream_timeout_s == 30.0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[models]]\nid = 'x'\n", "models.0 (x): kind: Field required"),
        (BUILT_IN + OPUS_47 + "upstream_timeout_s = 0\n", "upstream_timeout_s"),
        (BUILT_IN.replace('thinking = ["budget"]', 'thinking = ["sometimes"]', 1), "thinking"),
        (BUILT_IN + BUILT_IN, "used twice"),
        (BUILT_IN.replace("max_output_tokens = 64_000", "", 1), "max_output_tokens"),
        (BUILT_IN.replace("sampling = [", "samplin = [", 1), "samplin"),
        ("models = [", "Invalid value"),
        ("", "no models"),
    ],
    ids=[
        "missing-field",
        "zero-upstream-timeout",
        "unknown-thinking-style",
        "duplicate-names",
        "chat-model-without-limits",
        "unknown-key",
        "not-toml",
        "empty",
    ],
)
def test_a_wrong_table_names_the_file_and_the_problem(text: str, words: str) -> None:
    with pytest.raises(ModelTableError) as info:
        parse_model_table(text, "custom.toml")

    message = str(info.value)
    assert message.startswith("invalid model table custom.toml: ")
    assert words in message
    assert "\n" not in message


def test_adaptive_thinking_needs_efforts_in_a_table_too() -> None:
    broken = BUILT_IN.replace(
        'thinking = ["adaptive", "budget"]\nefforts = ["low", "medium", "high", "max"]',
        'thinking = ["adaptive", "budget"]\nefforts = []',
        1,
    )
    with pytest.raises(ModelTableError, match="adaptive thinking"):
        parse_model_table(broken)


def test_the_current_opus_always_thinks_and_takes_no_forced_tool() -> None:
    opus = load_model_table().resolve("claude-opus-5-5")

    assert opus.thinking == ("adaptive",) and opus.thinking_always_on
    assert not opus.forced_tool_use and opus.structured_outputs
    assert opus.sampling == ()
    assert all(m.forced_tool_use for m in load_model_table() if m.id != "claude-opus-5-5")


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('thinking_always_on = true\nthinking = ["adaptive", "budget"]\n', "thinking_always_on"),
        ("forced_tool_use = false\nstructured_outputs = false\n", "structured_outputs"),
    ],
    ids=["always-on-with-budget", "no-forced-tool-without-structured-outputs"],
)
def test_the_new_rules_are_validated(extra: str, words: str) -> None:
    row = OPUS_47.replace('thinking = ["adaptive"]\n', "").replace(
        "structured_outputs = true\n", ""
    )
    with pytest.raises(ModelTableError, match=words):
        parse_model_table(BUILT_IN + row + extra.replace("\\n", "\n"))


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ModelTableError, match="cannot read model table"):
        load_model_table(tmp_path / "nope.toml")


def test_drafter_up_stops_with_one_line_on_a_wrong_models_file(tmp_path: Path) -> None:
    wrong = tmp_path / "models.toml"
    wrong.write_text("[[models]]\nid = 'claude-x'\nkind = 'chat'\n")
    env = {"DRAFTER_MODELS_FILE": str(wrong), "DRAFTER_DATA_DIR": str(tmp_path / "data")}

    result = subprocess.run(
        [sys.executable, "-m", "drafter.cli", "up", "--port", "0"],
        env={**_path_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"drafter: invalid model table {wrong}: models.0 (claude-x): ")
    assert "Traceback" not in result.stderr


def _path_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}


def test_the_readme_table_names_every_model_and_its_upstream_id() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()

    for model in load_model_table():
        row = f"| `{model.id}` | `{model.upstream}` |"
        assert row in readme, f"README's model table lacks {row}"
