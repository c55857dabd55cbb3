"""The data page's audit section: who changed what, and restoring a feature or a layer."""

from __future__ import annotations

import streamlit as st

from geo.errors import OneMapError
from i18n import t
from layers.catalogue import CATALOGUE
from layers.stores import Store
from ui import show
from ui.auth import active_account, write_store


def changed_fields(old: dict | None, new: dict | None) -> str:
    """``name: 旧 → 新; capacity: 80 → 120`` for an audit row (geometry shown as 'moved')."""
    if not old or not new:
        return ""
    parts = []
    for k in new:
        if k in ("version", "layer_version", "updated_at", "fid") or k.startswith("_"):
            continue
        if old.get(k) != new.get(k):
            parts.append("geometry: moved" if k == "geometry" else f"{k}: {old.get(k)} → {new.get(k)}")
    return "; ".join(parts)


def audit_section(store: Store, layer: str, lang: str) -> None:
    """The audit trail of ``layer`` and the restore controls."""
    st.subheader(t("audit", lang))
    fid = st.text_input(t("feature_id", lang), key="audit_feature").strip() or None
    trail = store.audit.trail(layer, fid)
    if trail.empty:
        st.caption(t("no_audit", lang))
    else:
        shown = trail[["changed_at", "changed_by", "db_role", "feature_id", "action", "layer_version"]].copy()
        shown["changes"] = [changed_fields(o, n) if a == "update" else
                            (f"based on v{n.get('_based_on_version')}, stored v{n.get('_stored_version')}"
                             if a == "refused" and n else "")
                            for a, o, n in zip(trail["action"], trail["old"], trail["new"])]
        st.dataframe(shown.iloc[::-1], hide_index=True, width="stretch", key="audit_table")
    account = active_account()
    if not account.can_write(layer):
        return
    c1, c2 = st.columns(2)
    if fid:
        try:
            versions = list(store.layers.feature_versions(layer, fid)["version"])
        except OneMapError:
            versions = []
        if versions:
            v = c1.selectbox(t("restore_feature", lang), versions[:-1] or versions, key="audit_feature_version")
            if c1.button(t("restore", lang), key="audit_restore_feature"):
                try:
                    got = write_store(account).layers.restore_feature(layer, fid, version=int(v), user=account.username)
                    show.success(f"{fid} → v{v} ({layer} v{got.layer_version})", at=c1)
                except OneMapError as exc:
                    show.error(str(exc), at=c1)
    log = store.history(layer)
    versions = [int(v) for v in log.loc[log["kind"] == "vector", "layer_version"]]
    if len(versions) > 1 and account.role == "admin":
        v = c2.selectbox(t("restore_layer", lang), versions[:-1][::-1], key="audit_layer_version")
        if c2.button(t("restore", lang), key="audit_restore_layer"):
            try:
                got = write_store(account).layers.restore(layer, layer_version=int(v), user=account.username)
                show.success(f"{CATALOGUE[layer].label_zh}: v{v} → v{got.layer_version}", at=c2)
            except OneMapError as exc:
                show.error(str(exc), at=c2)


__all__ = ["audit_section", "changed_fields"]
