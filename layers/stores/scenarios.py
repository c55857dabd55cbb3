"""``store.scenarios``: named planning scenarios (their inputs and results as JSON)."""

from __future__ import annotations

import abc
import json
from typing import TYPE_CHECKING

import pandas as pd

from layers.errors import StoreError, UnknownLayerError

if TYPE_CHECKING:
    from layers.stores.base import Store


class Scenarios(abc.ABC):
    """The saved planning scenarios of one store."""

    def __init__(self, store: "Store") -> None:
        self._store = store

    def save(self, name: str, payload: dict, *, user: str = "system", overwrite: bool = False) -> None:
        """Save a named planning scenario (its inputs and results, as JSON-able data).

        Raises
        ------
        StoreError
            An empty or over-long name, a name already saved (unless ``overwrite``), or a
            payload that is not JSON.
        """
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
            raise StoreError(f"A scenario needs a name of 1 to 100 characters, not {name!r}.")
        try:
            text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"Scenario {name!r} cannot be saved: its contents are not plain data ({exc}).") from None
        self._save(name.strip(), text, user=user, overwrite=overwrite)

    def load(self, name: str) -> dict:
        """The payload saved as ``name``, with ``saved_by`` and ``saved_at`` added.

        Raises
        ------
        UnknownLayerError
            When no scenario has that name (the message lists the saved ones).
        """
        row = self._load(name)
        if row is None:
            raise UnknownLayerError(name, list(self.list()["name"]), stored=True)
        payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else dict(row["payload"])
        return {**payload, "name": name, "saved_by": row["saved_by"], "saved_at": str(row["saved_at"])}

    @abc.abstractmethod
    def list(self) -> pd.DataFrame:
        """Saved scenarios: ``name``, ``saved_by``, ``saved_at``, newest first."""

    @abc.abstractmethod
    def _save(self, name: str, payload: str, *, user: str, overwrite: bool) -> None: ...

    @abc.abstractmethod
    def _load(self, name: str) -> dict | None: ...


__all__ = ["Scenarios"]
