"""Maps that move together: every map of a group on one page keeps the view of the one last moved (two
scenarios side by side).  Each map is its own page in an iframe of the app's page, served from the app's
origin, so a map reaches its siblings through the parent page's frames."""

from __future__ import annotations

from branca.element import MacroElement
from jinja2 import Template


class ViewSync(MacroElement):
    """Keep this map's centre and zoom equal to those of every other map of ``group`` on the page."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, group = {{ this.group|tojson }}, applying = false;
            window.onemapSync = {group: group, apply: function (centre, zoom) {
                var now = map.getCenter();
                if (map.getZoom() === zoom && Math.abs(now.lat - centre[0]) < 1e-9
                        && Math.abs(now.lng - centre[1]) < 1e-9) { return; }
                applying = true;
                try { map.setView(centre, zoom, {animate: false}); } finally { applying = false; }
            }};
            map.on("moveend", function () {
                if (applying) { return; }
                var frames;
                try { frames = window.parent.document.querySelectorAll("iframe"); } catch (e) { return; }
                var c = map.getCenter(), z = map.getZoom();
                frames.forEach(function (f) {
                    try {
                        var w = f.contentWindow;
                        if (w && w !== window && w.onemapSync && w.onemapSync.group === group) {
                            w.onemapSync.apply([c.lat, c.lng], z);
                        }
                    } catch (e) { /* a frame of another origin is not a sibling */ }
                });
            });
        })();
        {% endmacro %}
    """)

    def __init__(self, group: str) -> None:
        super().__init__()
        self._name = "ViewSync"
        self.group = group
