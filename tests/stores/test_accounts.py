"""Accounts and sign-in: hashed passwords, refusals, lockout, and what each role may change."""

from __future__ import annotations

import subprocess

import pytest

from layers.errors import AccessDeniedError, SignInError, StoreError
from office import accounts
from office.accounts import (
    MAX_FAILURES,
    SINGLE_USER,
    create_account,
    has_accounts,
    sign_in,
    unlock_account,
    verify_password,
)
from tests.conftest import ROOT

PASSWORD = "青溪-Edu-2026!"


def test_sign_in_refusals_and_lockout(store):
    assert not has_accounts(store)
    create_account(store, "li.si", PASSWORD, role="editor", department="education")
    assert has_accounts(store)
    row = store.accounts.get("li.si")
    assert row["password_hash"].startswith("scrypt$") and PASSWORD not in row["password_hash"]
    assert verify_password(PASSWORD, row["password_hash"]) and not verify_password("wrong", row["password_hash"])
    assert "password_hash" not in store.accounts.list().columns

    me = sign_in(store, "li.si", PASSWORD)
    assert (me.role, me.department) == ("editor", "education")
    with pytest.raises(SignInError, match="Wrong user name or password"):
        sign_in(store, "li.si", "Qingxi-wrong-1")
    with pytest.raises(SignInError, match="Wrong user name or password"):
        sign_in(store, "nobody", PASSWORD)  # the same message: names are not revealed
    for _ in range(MAX_FAILURES - 1):  # the fifth failure locks, and says only what the others said
        with pytest.raises(SignInError, match="^Wrong user name or password.$"):
            sign_in(store, "li.si", "Qingxi-wrong-1")
    assert store.accounts.get("li.si")["locked_until"] is not None
    with pytest.raises(SignInError, match="^Wrong user name or password.$"):
        sign_in(store, "li.si", "Qingxi-wrong-2")  # locked: a wrong password learns nothing more
    with pytest.raises(SignInError, match="locked .* until"):
        sign_in(store, "li.si", PASSWORD)  # the right password is told, and still refused
    unlock_account(store, "li.si")
    assert sign_in(store, "li.si", PASSWORD).username == "li.si"


def test_account_rules(store):
    with pytest.raises(SignInError, match="at least 10 characters"):
        create_account(store, "wang", "short", role="viewer")
    with pytest.raises(SignInError, match="too easy"):
        create_account(store, "wang", "1234567890", role="viewer")
    with pytest.raises(StoreError, match="belongs to one department"):
        create_account(store, "wang", PASSWORD, role="editor")
    with pytest.raises(StoreError, match="not one of viewer, editor, admin"):
        create_account(store, "wang", PASSWORD, role="owner")
    create_account(store, "wang", PASSWORD, role="viewer")
    with pytest.raises(StoreError, match="exists already"):
        create_account(store, "wang", PASSWORD, role="viewer")


def test_what_each_role_may_change():
    edu = accounts.Account("li.si", "editor", "education")
    assert edu.can_write("school_facilities") and edu.can_write("boundaries")  # own layer; own rows of a shared one
    assert not edu.can_write("venues")
    with pytest.raises(AccessDeniedError, match="belongs to 体育局"):
        edu.require_write("venues")
    assert not accounts.Account("v", "viewer").can_write("boundaries")
    assert accounts.Account("a", "admin").can_write("venues") and SINGLE_USER.can_write("venues")


def test_no_password_or_secret_is_committed():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    suspicious = []
    for name in files:
        path = ROOT / name
        if path.suffix in (".png", ".gpkg", ".ico", ".woff", ".woff2", ".ttf") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        for marker in ("scrypt$32768", "-----BEGIN", "PRIVATE KEY", "AKIA"):
            if marker in text and name != "tests/stores/test_accounts.py":
                suspicious.append((name, marker))
    assert suspicious == []
