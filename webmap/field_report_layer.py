"""Field reports on a web map: the reports as a layer coloured by their age against the due time, and the
问题反馈 button that turns the next click (on a facility, or anywhere) into a report form.

The form is posted to ``/field-reports`` beside the map with the signed query the map itself was
opened with (a published map) or one signed for the page (a map drawn inside a page), so the
server files the report as the signed-in account; the answer (the report's code, the department
it went to, when it is due) is set into the pop-up as text.
"""

from __future__ import annotations

import datetime as dt
import json

import folium
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from i18n import t
from i18n.values import value_label
from office.field_reports import CATEGORIES, REPORT_LAYERS, age_class
from webmap.escape import html_text
from webmap.legend import LegendEntry

#: Colour of a report by its age against its due time.
AGE_COLORS = {"on_time": "#1a9850", "due_soon": "#f39c12", "overdue": "#d73027", "closed": "#8c8c8c"}
#: Where a published map posts its reports (beside ``/maps/``).
POST_PATH = "field-reports"


def report_frame(reports: pd.DataFrame, now: dt.datetime):
    """Reports as points with their age class and colour (WGS-84)."""
    import geopandas as gpd

    frame = reports.copy()
    frame["age"] = [age_class(r, now) for r in frame.to_dict("records")] if len(frame) else []
    frame["age_color"] = frame["age"].map(AGE_COLORS)
    frame["report_status"] = frame["status"]
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326)


def report_layer(reports: pd.DataFrame, lang: str, now: dt.datetime) -> folium.FeatureGroup:
    """The reports as a switchable layer of dots coloured by :data:`AGE_COLORS`, each with its pop-up."""
    from webmap.folium_map import _json_ready

    frame = report_frame(reports, now)
    fields = ["report_id", "category", "report_status", "age", "department", "place_name", "created_at", "due_at",
              "body"]
    aliases = [t(k, lang) for k in ("report_code", "report_category", "report_status", "report_age",
                                    "report_department", "report_place", "report_filed_at", "report_due",
                                    "report_text")]
    data = _json_ready(frame, fields, lang, raw=("age_color",))
    group = folium.FeatureGroup(name=t("field_reports", lang))
    folium.GeoJson(json.loads(data.to_json(drop_id=True)), name="field_reports",
                   marker=folium.CircleMarker(radius=8, fill=True, fill_opacity=0.9, weight=2),
                   style_function=lambda f: {"color": "#222222", "fillColor": f["properties"].get("_age_color"),
                                             "weight": 2, "fillOpacity": 0.9},
                   popup=folium.GeoJsonPopup(fields=fields, aliases=[html_text(a) for a in aliases], labels=True),
                   tooltip=folium.GeoJsonTooltip(fields=["category"], labels=False)).add_to(group)
    return group


def report_legend(lang: str) -> list[LegendEntry]:
    """Legend rows of the report layer's colours."""
    colon = ": " if lang == "en" else "："
    return [LegendEntry("dot", color, f"{t('field_reports', lang)}{colon}{value_label('age', age, lang)}")
            for age, color in AGE_COLORS.items()]


def open_reports_text(categories: list[str], lang: str) -> str:
    """``2 条（设施损坏、应开未开）`` for a facility's pop-up."""
    names = ("、" if lang != "en" else ", ").join(value_label("category", c, lang) for c in categories)
    return t("open_reports_on_feature", lang, n=len(categories), categories=names)


class ReportEntry(MacroElement):
    """The 问题反馈 button: the next click on a facility (of :data:`REPORT_LAYERS`) or on the map opens a form.

    ``query``: the signed query to send (``None``: the map's own ``location.search``, for a published map);
    ``post_url``: where to post (``None``: ``field-reports`` beside the published map's ``maps/`` folder).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var words = {{ this.words_json }};
            var layers = {{ this.layers_json }};
            var query = {{ this.query_json }};
            if (query === null) { query = window.location.search; }
            var postUrl = {{ this.post_json }};
            if (postUrl === null) {
                postUrl = window.location.pathname.replace(/maps\\/[^\\/]*$/, '{{ this.post_path }}');
            }
            var signedIn = /[?&]u=/.test(query);
            var active = false;
            var Button = L.Control.extend({
                options: {position: 'topleft'},
                onAdd: function () {
                    var box = L.DomUtil.create('div', 'leaflet-bar onemap-report-button');
                    var a = L.DomUtil.create('a', '', box);
                    a.href = '#'; a.setAttribute('role', 'button'); a.title = words.hint;
                    a.textContent = words.button;
                    a.style.width = 'auto'; a.style.padding = '0 8px'; a.style.fontWeight = '600';
                    L.DomEvent.on(a, 'click', function (e) {
                        L.DomEvent.stop(e);
                        active = !active;
                        a.style.background = active ? '#d73027' : '';
                        a.style.color = active ? '#fff' : '';
                        a.textContent = active ? words.cancel : words.button;
                        map.getContainer().style.cursor = active ? 'crosshair' : '';
                        window.onemapReportMode = active;
                    });
                    L.DomEvent.disableClickPropagation(box);
                    return box;
                }
            });
            map.addControl(new Button());
            function openForm(latlng, place) {
                setTimeout(function () {  // after the feature's own pop-up, which this one replaces
                    L.popup({maxWidth: 320, minWidth: 240}).setLatLng(latlng).setContent(form(latlng, place))
                        .openOn(map);
                }, 0);
            }
            map.eachLayer(function (l) {
                var p = l.feature && l.feature.properties;
                if (p && layers.indexOf(p._layer) >= 0) {
                    l.on('click', function (e) {
                        if (!active) { return; }
                        if (e.originalEvent) { e.originalEvent._onemapReport = true; }
                        openForm(e.latlng, {layer: p._layer, id: p._feature_id,
                                            name: p[p._name_field] || p._feature_id});
                    });
                }
            });
            function el(tag, text, parent) {
                var node = document.createElement(tag);
                if (text) { node.textContent = text; }
                if (parent) { parent.appendChild(node); }
                return node;
            }
            function form(latlng, place) {
                var box = el('form'); box.className = 'onemap-report-form';
                box.style.minWidth = '230px';
                var head = el('div', null, box); head.style.fontWeight = '600'; head.style.marginBottom = '4px';
                head.textContent = words.title + (words.lang === 'en' ? ': ' : '：');
                var name = el('span', null, head);
                if (place) { name.innerHTML = place.name; }  // arrives escaped, as every shown value
                else { name.textContent = latlng.lng.toFixed(5) + ', ' + latlng.lat.toFixed(5); }
                var kind = null;
                if (!place) {
                    el('label', words.kind, box).style.display = 'block';
                    kind = el('select', null, box); kind.name = 'kind';
                    words.kinds.forEach(function (k) { var o = el('option', k[1], kind); o.value = k[0]; });
                }
                el('label', words.category, box).style.display = 'block';
                var cat = el('select', null, box); cat.name = 'category';
                words.categories.forEach(function (c) { var o = el('option', c[1], cat); o.value = c[0]; });
                el('label', words.text, box).style.display = 'block';
                var body = el('textarea', null, box); body.name = 'body'; body.rows = 3; body.maxLength = 500;
                body.style.width = '100%';
                el('div', words.photos, box);
                // The browser's own file button speaks the browser's language: ours speaks the map's.
                var pick = el('label', null, box); pick.style.cursor = 'pointer';
                var photos = el('input', null, pick); photos.type = 'file'; photos.name = 'photos';
                photos.multiple = true; photos.accept = 'image/jpeg,image/png,image/webp';
                photos.style.display = 'none';
                var chooseButton = el('span', words.choose, pick);
                chooseButton.style.border = '1px solid #999'; chooseButton.style.borderRadius = '3px';
                chooseButton.style.padding = '1px 6px'; chooseButton.style.background = '#f4f4f4';
                var chosen = el('span', ' ' + words.none_chosen, pick);
                photos.addEventListener('change', function () {
                    chosen.textContent = ' ' + words.n_chosen.replace('{n}', photos.files.length);
                });
                var anon = null;
                if (signedIn) {
                    var row = el('label', null, box); row.style.display = 'block';
                    anon = el('input', null, row); anon.type = 'checkbox'; anon.name = 'anonymous';
                    row.appendChild(document.createTextNode(' ' + words.anonymous));
                }
                var send = el('button', words.send, box); send.type = 'submit'; send.style.marginTop = '6px';
                send.style.display = 'block';
                var said = el('div', null, box); said.className = 'onemap-report-result';
                said.style.marginTop = '6px'; said.style.whiteSpace = 'pre-line';
                box.addEventListener('submit', function (e) {
                    e.preventDefault();
                    var data = new FormData();
                    if (place) { data.append('layer', place.layer); data.append('id', place.id); }
                    else {
                        data.append('lon', latlng.lng); data.append('lat', latlng.lat);
                        data.append('kind', kind.value);
                    }
                    data.append('category', cat.value); data.append('body', body.value);
                    data.append('lang', words.lang);
                    if (anon && anon.checked) { data.append('anonymous', '1'); }
                    for (var i = 0; i < photos.files.length; i++) { data.append('photos', photos.files[i]); }
                    send.disabled = true; said.textContent = words.sending;
                    var key = window.location.pathname.split('/').pop().replace(/\\.html$/, '');
                    var q = query + (query ? '&' : '?') + 'lang=' + words.lang
                        + (query.indexOf('k=') < 0 && /\\.html$/.test(window.location.pathname)
                           ? '&k=' + encodeURIComponent(key) : '');
                    fetch(postUrl + q, {method: 'POST', body: data, credentials: 'same-origin'})
                        .then(function (r) {
                            return r.json().catch(function () { return {ok: false, message: words.failed}; });
                        })
                        .then(function (got) {
                            said.textContent = got.message;
                            said.style.color = got.ok ? '#1a7f37' : '#b42318';
                            if (got.ok) { box.setAttribute('data-report', got.report_id); }
                            else { send.disabled = false; }
                        })
                        .catch(function () { said.textContent = words.failed; send.disabled = false; });
                });
                return box;
            }
            map.on('click', function (e) {  // a place with no facility of those layers under the pointer
                if (active && !(e.originalEvent && e.originalEvent._onemapReport)) { openForm(e.latlng, null); }
            });
        })();
        {% endmacro %}
    """)

    def __init__(self, lang: str, *, query: str | None = None, post_url: str | None = None) -> None:
        super().__init__()
        self._name = "ReportEntry"
        words = {"lang": lang, "button": t("report_button", lang), "cancel": t("report_cancel", lang),
                 "hint": t("report_hint", lang), "title": t("report_title", lang), "kind": t("report_kind", lang),
                 "category": t("report_category", lang), "text": t("report_text", lang),
                 "photos": t("report_photos", lang), "anonymous": t("report_anonymous", lang),
                 "send": t("report_send", lang), "sending": t("report_sending", lang),
                 "failed": t("report_failed", lang), "choose": t("choose_photos", lang),
                 "none_chosen": t("no_photo_chosen", lang), "n_chosen": t("photos_chosen", lang, n="{n}"),
                 "categories": [[c, value_label("category", c, lang)] for c in CATEGORIES],
                 "kinds": [[k, value_label("point_kind", k, lang)] for k in (*REPORT_LAYERS, "other")]}
        self.words_json = _script_json(words)
        self.layers_json = _script_json(list(REPORT_LAYERS))
        self.query_json = _script_json(query)
        self.post_json = _script_json(post_url)
        self.post_path = POST_PATH


def _script_json(value: object) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no ``<!--``)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace(
        "&", "\\u0026")


__all__ = ["report_layer", "report_legend", "report_frame", "open_reports_text", "ReportEntry", "AGE_COLORS",
           "POST_PATH"]
