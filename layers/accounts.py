"""Accounts: viewers, department editors and alliance administrators, with sign-in.

Passwords are kept only as scrypt hashes (a random salt per account, memory-hard
parameters); a wrong password is refused with the same message as an unknown name, and
after :data:`MAX_FAILURES` failures in a row the account is locked for
:data:`LOCK_MINUTES` minutes.  A store with no account is the embedded single-user
default: everyone is its administrator, and the app says so.

What a signed-in user may change follows the department rules that PostGIS enforces with
roles (:mod:`layers.stores.postgis.roles`): an editor changes its department's layers (and its
own rows of the alliance's shared layers), a viewer nothing, an administrator everything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from layers.errors import AccessDeniedError, SignInError, StoreError
from layers.catalogue import DEPARTMENTS, get_spec

ROLES = ("viewer", "editor", "admin")
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
_SCRYPT = {"n": 2 ** 15, "r": 8, "p": 1}
SHARED = "alliance"


@dataclass(frozen=True)
class Account:
    """A signed-in user (no secret kept here)."""

    username: str
    role: str
    department: str | None = None
    single_user: bool = False

    @property
    def label(self) -> str:
        """``张三（教育局 editor）`` style text."""
        dept = DEPARTMENTS.get(self.department or "", ("", ""))[0]
        return f"{self.username}（{dept + ' ' if dept else ''}{self.role}）"

    def can_write(self, layer: str) -> bool:
        """Whether this user may change layer ``layer`` (for a shared layer: its own rows)."""
        if self.role == "admin":
            return True
        if self.role != "editor":
            return False
        return get_spec(layer).department in (self.department, SHARED)

    def require_write(self, layer: str) -> None:
        """Raise :class:`AccessDeniedError` naming who may change ``layer`` when this user may not."""
        if not self.can_write(layer):
            owner = get_spec(layer).department
            raise AccessDeniedError(f"{self.label} may not change {layer}: it belongs to "
                                    f"{DEPARTMENTS[owner][0]} ({owner}); ask its editors or an administrator.")


#: The account of a store with no accounts (the embedded default).
SINGLE_USER = Account("single-user", "admin", None, single_user=True)


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) of ``password`` with a fresh random salt."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, maxmem=64 * 1024 * 1024, **_SCRYPT)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` string (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(want), maxmem=64 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def check_password_rules(username: str, password: str) -> None:
    """Refuse weak passwords with a message saying what is accepted."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise SignInError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if password.isdigit() or password.lower() == username.lower() or len(set(password)) < 5:
        raise SignInError("That password is too easy to guess (all digits, the user name, or few different "
                          "characters); mix letters, digits and signs.")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def create_account(store, username: str, password: str, *, role: str, department: str | None = None,
                   replace: bool = False) -> Account:
    """Add an account to ``store`` (an editor needs a department).

    Raises
    ------
    StoreError
        A bad name, role or department, or a name already taken (unless ``replace``).
    SignInError
        A password that breaks :func:`check_password_rules`.
    """
    if not re.fullmatch(r"[\w.\-@\u4e00-\u9fff]{2,64}", username or ""):
        raise StoreError(f"User name {username!r}: use 2–64 letters, digits, Chinese characters, '.', '-', '_' or '@'.")
    if role not in ROLES:
        raise StoreError(f"Role {role!r} is not one of {', '.join(ROLES)}.")
    if role == "editor" and department not in DEPARTMENTS:
        raise StoreError(f"An editor belongs to one department: {', '.join(DEPARTMENTS)}.")
    if role != "editor":
        department = None
    if store.accounts.get(username) is not None and not replace:
        raise StoreError(f"An account named {username!r} exists already.")
    check_password_rules(username, password)
    store.accounts.put({"username": username, "password_hash": hash_password(password), "role": role,
                        "department": department, "failed_attempts": 0, "locked_until": None,
                        "created_at": _now().isoformat(), "last_sign_in": None})
    return Account(username, role, department)


def sign_in(store, username: str, password: str) -> Account:
    """Check a user name and password; count failures and lock the account after too many.

    Raises
    ------
    SignInError
        Wrong name or password (one message for both), or the account is locked (the
        message says until when).
    """
    row = store.accounts.get(username)
    now = _now()
    wrong = SignInError("Wrong user name or password.")
    if row is None:
        verify_password(password, hash_password("x" * MIN_PASSWORD_LENGTH))  # same time as a real check
        raise wrong
    until = row.get("locked_until")
    if until and datetime.fromisoformat(str(until)) > now:
        raise SignInError(f"Account {username!r} is locked after {MAX_FAILURES} wrong passwords until "
                          f"{datetime.fromisoformat(str(until)):%Y-%m-%d %H:%M} UTC; an administrator can unlock it.")
    if not verify_password(password, row["password_hash"]):
        failures = int(row.get("failed_attempts") or 0) + 1
        locked = (now + timedelta(minutes=LOCK_MINUTES)).isoformat() if failures >= MAX_FAILURES else None
        store.accounts.put({**row, "failed_attempts": 0 if locked else failures, "locked_until": locked})
        if locked:
            raise SignInError(f"Wrong password {MAX_FAILURES} times: account {username!r} is locked for "
                              f"{LOCK_MINUTES} minutes.")
        raise wrong
    store.accounts.put({**row, "failed_attempts": 0, "locked_until": None, "last_sign_in": now.isoformat()})
    return Account(row["username"], row["role"], row.get("department"))


def unlock_account(store, username: str) -> None:
    """Clear an account's failures and lock (an administrator's action)."""
    row = store.accounts.get(username)
    if row is None:
        raise StoreError(f"No account named {username!r}.")
    store.accounts.put({**row, "failed_attempts": 0, "locked_until": None})


def has_accounts(store) -> bool:
    """Whether the store has any account (else it is the single-user default)."""
    return len(store.accounts.list()) > 0


__all__ = ["Account", "SINGLE_USER", "ROLES", "create_account", "sign_in", "unlock_account", "has_accounts",
           "hash_password", "verify_password", "check_password_rules", "MAX_FAILURES", "LOCK_MINUTES"]
