"""``store.accounts``: the rows :mod:`office.accounts` signs users in with (hashes never leave the store).

Every change of a sign-in counter is one atomic statement in the store (``UPDATE …
RETURNING``), so parallel attempts are each counted: no read–check–write in Python.
"""

from __future__ import annotations

import abc
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from layers.stores.base import Store

#: Columns of the accounts table.
ACCOUNT_COLUMNS = ("username", "password_hash", "role", "department", "failed_attempts", "locked_until",
                   "created_at", "last_sign_in")


def stamp(when: datetime) -> str:
    """A UTC time as the accounts table keeps it (ISO text with microseconds: text order is time order)."""
    return when.isoformat(timespec="microseconds")


class AccountTable(abc.ABC):
    """The accounts of one store."""

    def __init__(self, store: "Store") -> None:
        self._store = store

    @abc.abstractmethod
    def get(self, username: str) -> dict | None:
        """One account's row (with its password hash), or ``None``."""

    @abc.abstractmethod
    def put(self, row: dict) -> None:
        """Insert one account's row, or replace it (by user name) in one statement."""

    @abc.abstractmethod
    def list(self) -> pd.DataFrame:
        """User name, role, department, failures, lock and last sign-in of every account (no hashes)."""

    @abc.abstractmethod
    def count_attempt(self, username: str, *, now: datetime, max_failures: int,
                      lock_for: timedelta) -> dict | None:
        """Count one sign-in attempt before its password is checked, atomically; return the row after it.

        The attempt counts as a failure until :meth:`signed_in` clears it.  An expired lock
        starts the count again at 1; the count passing ``max_failures`` locks the account
        until ``now + lock_for``.  ``None`` when there is no such account (the same statement
        runs, so an unknown name costs what a known one does).
        """

    @abc.abstractmethod
    def lock_if_failed(self, username: str, *, now: datetime, max_failures: int, lock_for: timedelta) -> None:
        """Lock the account when its count has reached ``max_failures`` (after a wrong password)."""

    @abc.abstractmethod
    def signed_in(self, username: str, *, now: datetime) -> None:
        """Clear the count and the lock and note the sign-in."""

    @abc.abstractmethod
    def unlock(self, username: str) -> bool:
        """Clear the count and the lock; whether the account exists."""

    def exist(self) -> bool:
        """Whether the store has any account (else it is the single-user default)."""
        return len(self.list()) > 0


__all__ = ["AccountTable", "ACCOUNT_COLUMNS", "stamp"]
