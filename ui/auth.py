"""Sign-in in the app, and the store a signed-in user writes through.

A store without accounts is the embedded single-user default: no sign-in, and the
sidebar says so.  With accounts, every page waits for a sign-in; writes then go through
the user's department role in PostGIS (the database refuses what the role may not do)
and are checked against the same rules first, so the message is clear.
"""

from __future__ import annotations

import streamlit as st

from geo.errors import OneMapError
from i18n import t
from layers.errors import SignInError
from layers.stores import Store
from office.accounts import SINGLE_USER, Account, has_accounts, sign_in
from ui import show, state
from ui.store_access import get_store


def current_account() -> Account:
    """The signed-in account; shows the sign-in form and stops the page when there is none yet."""
    store = get_store()
    lang = state.lang()
    if not has_accounts(store):
        st.sidebar.caption(t("single_user", lang))
        return SINGLE_USER
    account = st.session_state.get(state.ACCOUNT)
    if account is not None:
        show.caption(f"{t('signed_in_as', lang)} {account.label}", at=st.sidebar)
        if st.sidebar.button(t("sign_out", lang), key="sign_out"):
            st.session_state.pop(state.ACCOUNT, None)
            st.rerun()
        return account
    st.title(t("app_title", lang))
    with st.form("sign_in"):
        st.subheader(t("sign_in", lang))
        name = st.text_input(t("user_name", lang), key="sign_in_name")
        password = st.text_input(t("password", lang), type="password", key="sign_in_password")
        submitted = st.form_submit_button(t("sign_in", lang), type="primary")
    if submitted:
        try:
            st.session_state[state.ACCOUNT] = sign_in(store, name.strip(), password)
            st.rerun()
        except SignInError as exc:
            show.error(str(exc))
    st.stop()
    raise AssertionError("st.stop() does not return")


def active_account() -> Account:
    """The account the page acts for (after :func:`current_account` let the page run)."""
    return st.session_state.get(state.ACCOUNT) or SINGLE_USER


@st.cache_resource(show_spinner=False, max_entries=8)
def _role_store(_store: Store, store_key: str, db_role: str) -> Store:
    return _store.as_role(db_role)


def write_store(account: Account) -> Store:
    """The store to write through as ``account``: its department's database role on PostGIS.

    On a GeoPackage (or a PostGIS schema whose roles are not set up yet, which the page
    is told about) the app's own rules are the only check.
    """
    store = get_store()
    if account.single_user or not hasattr(store, "as_role"):
        return store
    from layers.stores.postgis.roles import role_name

    who = account.department if account.role == "editor" else account.role
    try:
        return _role_store(store, store.description, role_name(store.schema, who))
    except OneMapError as exc:
        show.warning(t("roles_missing", state.lang()) + str(exc))
        return store
