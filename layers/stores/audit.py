"""``store.audit``: who changed which feature or record, when, from what to what.

Every row inserted, updated or deleted by a write is recorded with the signed-in user, the
database role it ran as (PostGIS), the layer version and the states before and after;
saves refused for a version conflict are kept with the values that were refused.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

import pandas as pd

from layers.stores.states import parse_state, same_state

if TYPE_CHECKING:
    from layers.stores.base import Store

#: Columns of :meth:`AuditTrail.trail`.
AUDIT_COLUMNS = ["changed_at", "changed_by", "db_role", "layer", "feature_id", "action", "layer_version",
                 "old", "new", "txid"]


class AuditTrail(abc.ABC):
    """The audit trail of one store; backends read and append its rows."""

    def __init__(self, store: "Store") -> None:
        self._store = store

    def trail(self, layer: str | None = None, feature_id: str | None = None, *,
              changes_only: bool = True) -> pd.DataFrame:
        """Who changed what, when, with the values before and after (:data:`AUDIT_COLUMNS`), oldest first.

        A delete and an insert of the same feature in one transaction is one ``update``;
        ``refused`` rows keep the values of saves refused for a version conflict.  With
        ``changes_only``, rewrites that changed nothing but bookkeeping are left out.
        """
        raw = self._read(layer, feature_id)
        if raw.empty:
            return pd.DataFrame(columns=AUDIT_COLUMNS)
        for col in ("old", "new"):
            raw[col] = pd.Series([parse_state(v) for v in raw[col]], index=raw.index, dtype=object)
        rows = []
        for _key, g in raw.groupby(["txid", "layer", "feature_id"], sort=False):
            kinds = list(g["action"])
            first = g.iloc[0].to_dict()
            if "delete" in kinds and "insert" in kinds:
                old = g.loc[g["action"] == "delete", "old"].iloc[0]
                new = g.loc[g["action"] == "insert", "new"].iloc[-1]
                rows.append({**first, "action": "update", "old": old, "new": new,
                             "layer_version": g["layer_version"].max()})
            else:
                rows.extend(g.to_dict("records"))
        out = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
        if changes_only:
            keep = [not (a == "update" and same_state(o, n)) for a, o, n in zip(out["action"], out["old"], out["new"])]
            out = out[keep]
        out["changed_at"] = pd.to_datetime(out["changed_at"], utc=True, format="mixed")
        out["layer_version"] = pd.to_numeric(out["layer_version"]).astype("Int64")
        return out.sort_values(["changed_at", "layer", "feature_id"], kind="stable").reset_index(drop=True)

    @abc.abstractmethod
    def record_refused(self, layer: str, conflicts: list[dict], *, user: str) -> None:
        """Append ``refused`` rows: the attempted values and the version they were based on."""

    @abc.abstractmethod
    def _read(self, layer: str | None, feature_id: str | None) -> pd.DataFrame:
        """Raw audit rows (one per row inserted, updated, deleted or refused), :data:`AUDIT_COLUMNS`."""


__all__ = ["AuditTrail", "AUDIT_COLUMNS"]
