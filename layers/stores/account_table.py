"""``store.accounts``: the rows :mod:`layers.accounts` signs users in with (hashes never leave the store)."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from layers.stores.base import Store

#: Columns of the accounts table.
ACCOUNT_COLUMNS = ("username", "password_hash", "role", "department", "failed_attempts", "locked_until",
                   "created_at", "last_sign_in")


class AccountTable(abc.ABC):
    """The accounts of one store."""

    def __init__(self, store: "Store") -> None:
        self._store = store

    @abc.abstractmethod
    def get(self, username: str) -> dict | None:
        """One account's row (with its password hash), or ``None``."""

    @abc.abstractmethod
    def put(self, row: dict) -> None:
        """Insert or replace one account's row."""

    @abc.abstractmethod
    def list(self) -> pd.DataFrame:
        """User name, role, department, failures, lock and last sign-in of every account (no hashes)."""

    def exist(self) -> bool:
        """Whether the store has any account (else it is the single-user default)."""
        return len(self.list()) > 0


__all__ = ["AccountTable", "ACCOUNT_COLUMNS"]
