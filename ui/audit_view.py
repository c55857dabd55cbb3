"""The data page's audit section: who changed what, and restoring a feature or a layer."""

from __future__ import annotations

import streamlit as st

from geo.errors import OneMapError
from i18n import t
from i18n.values import value_label
from layers.catalogue import CATALOGUE
from layers.stores import Store
from ui import show
from ui.auth import active_account, write_store
from ui.reports import field_label
from ui.tables import show_table


def changed_fields(old: dict | None, new: dict | None, layer: str = "", lang: str = "zh") -> str:
    """``名称: 旧 → 新; 容量: 80 → 120`` for an audit row (fields by their labels; geometry shown as moved)."""
    if not old or not new:
        return ""
    parts = []
    for k in new:
        if k in ("version", "layer_version", "updated_at", "fid") or k.startswith("_"):
            continue
        if old.get(k) != new.get(k):
            name = field_label(layer, k, lang)
            parts.append(f"{name}: {t('moved', lang)}" if k == "geometry" else
                         f"{name}: {value_label(k, old.get(k), lang)} → {value_label(k, new.get(k), lang)}")
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
        shown["changes"] = [changed_fields(o, n, layer, lang) if a == "update" else
                            (t("refused_edit", lang, based=n.get("_based_on_version"), stored=n.get("_stored_version"))
                             if a == "refused" and n else "")
                            for a, o, n in zip(trail["action"], trail["old"], trail["new"])]
        show_table(shown.iloc[::-1], {"changed_at": (t("changed_at", lang), "datetime"),
                                      "changed_by": (t("changed_by", lang), "label:person"),
                                      "db_role": (t("db_role", lang), "text"),
                                      "feature_id": (t("site_id", lang), "text"),
                                      "action": (t("action", lang), "label:action"),
                                      "layer_version": (t("layer_version", lang), "count"),
                                      "changes": (t("changes", lang), "text")}, lang, key="audit_table")
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
                    show.success(t("restored_feature", lang, fid=fid, v=v, version=got.layer_version), at=c1)
                except OneMapError as exc:
                    show.failure(exc, lang, at=c1)
    log = store.history(layer)
    versions = [int(v) for v in log.loc[log["kind"] == "vector", "layer_version"]]
    if len(versions) > 1 and account.role == "admin":
        v = c2.selectbox(t("restore_layer", lang), versions[:-1][::-1], key="audit_layer_version")
        if c2.button(t("restore", lang), key="audit_restore_layer"):
            try:
                got = write_store(account).layers.restore(layer, layer_version=int(v), user=account.username)
                layer_name = CATALOGUE[layer].label_en if lang == "en" else CATALOGUE[layer].label_zh
                show.success(t("restored_layer", lang, layer=layer_name, v=v, version=got.layer_version), at=c2)
            except OneMapError as exc:
                show.failure(exc, lang, at=c2)


__all__ = ["audit_section", "changed_fields"]
