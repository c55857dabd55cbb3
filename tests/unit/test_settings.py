"""One settings object: the environment and an optional TOML file (the environment wins), checked when read, a
wrong value refused with a message naming its variable and file key; `onemap check-settings` and `onemap serve`
say so before anything starts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from config.settings import SettingsError, load_settings, settings
from tests.conftest import ROOT


def test_a_wrong_value_is_named_with_its_variable_and_file_key(monkeypatch):
    monkeypatch.setenv("ONEMAP_MAX_FILE_MB", "-3")
    with pytest.raises(SettingsError, match=r"ONEMAP_MAX_FILE_MB \(file key max_file_mb\) = '-3'"):
        load_settings()


def test_the_file_is_read_and_the_environment_wins(monkeypatch, tmp_path):
    path = tmp_path / "onemap.toml"
    path.write_text('max_file_mb = 200\npg_schema = "fitness"\n', encoding="utf-8")
    monkeypatch.setenv("ONEMAP_SETTINGS_FILE", str(path))
    monkeypatch.delenv("ONEMAP_MAX_FILE_MB", raising=False)
    monkeypatch.delenv("ONEMAP_PG_SCHEMA", raising=False)
    assert (settings().max_file_mb, settings().pg_schema) == (200.0, "fitness")
    monkeypatch.setenv("ONEMAP_MAX_FILE_MB", "50")
    assert settings().max_file_mb == 50.0  # read again when the environment changes


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("max_file_mb = = 1\n", "cannot be read"),
    ('pg_schema = "Drop Table"\n', "ONEMAP_PG_SCHEMA"),
])
def test_a_bad_settings_file_is_refused_with_what_to_do(monkeypatch, tmp_path, content, message):
    path = tmp_path / "onemap.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    monkeypatch.setenv("ONEMAP_SETTINGS_FILE", str(path))
    with pytest.raises(SettingsError, match=message):
        load_settings()


def _onemap(*args: str, **env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


def test_check_settings_prints_them_masked_and_names_a_wrong_one():
    good = _onemap("check-settings", DATABASE_URL="postgresql://onemap:s3cret@db:5432/fitness")
    assert good.returncode == 0, good.stderr
    assert "database_url = 'postgresql://onemap:***@db:5432/fitness'" in good.stdout and "s3cret" not in good.stdout
    bad = _onemap("check-settings", ONEMAP_PG_POOL="many")
    assert bad.returncode == 2 and "ONEMAP_PG_POOL" in bad.stderr
    serve = _onemap("serve", ONEMAP_MAX_FILE_MB="lots")
    assert serve.returncode == 2 and "ONEMAP_MAX_FILE_MB" in serve.stderr  # refused before any server starts


def test_streamlit_reads_the_same_settings_in_a_checkout_and_from_the_wheel():
    """`streamlit run app.py` reads .streamlit/config.toml; `onemap serve` passes the wheel's copy as flags: one
    content, and no exception detail, type or traceback ever reaches a page."""
    import tomllib

    from services.app_routes import STREAMLIT_CONFIG

    checkout = ROOT / ".streamlit" / "config.toml"
    assert checkout.read_bytes() == STREAMLIT_CONFIG.read_bytes()
    assert tomllib.loads(checkout.read_text(encoding="utf-8"))["client"]["showErrorDetails"] == "none"
