"""A map view in a link (?view=lat,lng,zoom): whatever text a link carries, the page either hands the map a view
it can set or nothing at all; a view a map wrote reads back to the same view."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from webmap.hash_zoom import view_fragment

VIEW = re.compile(r"#v=(-?\d+\.\d{5}),(-?\d+\.\d{5}),(\d+(?:\.\d+)?)")


@settings(max_examples=300, derandomize=True)
@given(st.one_of(st.text(max_size=60), st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0,
                                                 max_size=4).map(lambda v: ",".join(map(str, v)))))
def test_any_link_text_gives_a_settable_view_or_nothing(text):
    got = view_fragment(text)
    if got:
        lat, lng, zoom = (float(v) for v in VIEW.fullmatch(got).groups())
        assert -90 <= lat <= 90 and -180 <= lng <= 180 and 0 <= zoom <= 22


@given(st.floats(-90, 90), st.floats(-180, 180), st.sampled_from([3, 12, 15.75, 18.5]))
def test_a_view_a_map_wrote_reads_back(lat, lng, zoom):
    written = f"{lat:.5f},{lng:.5f},{zoom:g}"  # as the map writes it (toFixed(5), the zoom as it is)
    lat2, lng2, zoom2 = (float(v) for v in VIEW.fullmatch(view_fragment(written)).groups())
    assert (round(lat, 5), round(lng, 5), zoom) == (lat2, lng2, zoom2) or abs(lat2 - lat) < 1e-5


def test_a_tiny_zoom_is_written_without_an_exponent():  # found by the property above
    assert view_fragment("0,0,1e-05") == "#v=0.00000,0.00000,0"


def test_refused_views():
    for text in ("", "30,114", "30,114,13,1", "91,114,13", "30,181,13", "30,114,30", "<script>", "30,114,x",
                 "nan,114,13", "30,inf,13"):
        assert view_fragment(text) == "", text
