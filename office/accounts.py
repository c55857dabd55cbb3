"""Accounts: viewers, department editors and alliance administrators, with sign-in.

Passwords are kept only as scrypt hashes (a random salt per account, memory-hard
parameters).  Sign-in tells an attacker nothing: an unknown name, a wrong password and a
locked account get the same message after the same work (one counted attempt in the
store, one scrypt run); a locked account is told it is locked only when the right
password is given, and only for the first few attempts of its lock.  Every attempt is
counted by one atomic statement in the store before its password is checked, so parallel
guesses lock the account after :data:`MAX_FAILURES` as surely as one after another; it
stays locked for :data:`LOCK_MINUTES` minutes.  A store with no account is the embedded
single-user default: everyone is its administrator, and the app says so.

What a signed-in user may change follows the department rules that PostGIS enforces with
roles (:mod:`layers.stores.postgis.roles`): an editor changes its department's layers (and its
own rows of the alliance's shared layers), a viewer nothing, an administrator everything.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from layers.catalogue import DEPARTMENTS, get_spec
from layers.errors import AccessDeniedError, SignInError, StoreError

ROLES = ("viewer", "editor", "admin")
MAX_FAILURES = 5
LOCK_MINUTES = 15
#: Attempts during a lock that may still learn "locked" from the right password (then the plain refusal).
LOCK_REVEALS = 3

MIN_PASSWORD_LENGTH = 10
_SCRYPT = {"n": 2 ** 15, "r": 8, "p": 1}
SHARED = "alliance"
log = logging.getLogger(__name__)


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


@functools.cache
def _nobody_hash() -> str:
    """What an unknown name's password is checked against: a random salt and digest that no password
    matches, with the real parameters, so an unknown name costs one scrypt run like a known one."""
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(os.urandom(16))}${b64(os.urandom(32))}"


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
    """Check a user name and password; every attempt is counted, and too many lock the account.

    Raises
    ------
    SignInError
        "Wrong user name or password." for an unknown name, a wrong password or a locked
        account alike; a locked account given its right password is told until when
        (during the first :data:`LOCK_REVEALS` attempts of the lock).
    """
    now = _now()
    lock_for = timedelta(minutes=LOCK_MINUTES)
    row = store.accounts.count_attempt(username, now=now, max_failures=MAX_FAILURES, lock_for=lock_for)
    attempt = int(row["failed_attempts"]) if row else 0
    # Past the reveals a locked account's password is no longer checked at all (the same work is done).
    checked = row is not None and attempt <= MAX_FAILURES + LOCK_REVEALS
    right = verify_password(password, row["password_hash"] if checked else _nobody_hash())
    wrong = SignInError("Wrong user name or password.")
    if row is None:
        log.info("sign-in refused: no account %r", username)
        raise wrong
    if not checked:
        log.warning("sign-in refused: %r is locked (attempt %d, password not checked)", username, attempt)
        raise wrong
    if right and attempt <= MAX_FAILURES:
        store.accounts.signed_in(username, now=now)
        log.info("signed in: %s", username)
        return Account(row["username"], row["role"], row.get("department"))
    if not right:
        if attempt >= MAX_FAILURES:
            store.accounts.lock_if_failed(username, now=now, max_failures=MAX_FAILURES, lock_for=lock_for)
        log.warning("sign-in refused: wrong password for %r (attempt %d)", username, attempt)
        raise wrong
    until = row.get("locked_until")
    log.warning("sign-in refused: %r is locked (attempt %d, until %s)", username, attempt, until)
    if until:
        raise SignInError(f"Account {username!r} is locked after {MAX_FAILURES} wrong passwords until "
                          f"{datetime.fromisoformat(str(until)):%Y-%m-%d %H:%M} UTC; an administrator can unlock it.")
    raise wrong


def unlock_account(store, username: str) -> None:
    """Clear an account's failures and lock (an administrator's action)."""
    if not store.accounts.unlock(username):
        raise StoreError(f"No account named {username!r}.")


def has_accounts(store) -> bool:
    """Whether the store has any account (else it is the single-user default)."""
    return store.accounts.exist()


__all__ = ["Account", "SINGLE_USER", "ROLES", "create_account", "sign_in", "unlock_account", "has_accounts",
           "hash_password", "verify_password", "check_password_rules", "MAX_FAILURES", "LOCK_MINUTES"]
