"""Print maps carry Chinese labels in a real CJK font; the images are kept to be looked at."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from PIL import Image

from exports.print_map import CJK_FAMILIES, cjk_font, print_map
from geo.errors import AnalysisError
from geo.gaps import gap_areas

TITLE = "青溪区 体育场馆10分钟步行覆盖缺口"


def _glyph_image(font: FontProperties, char: str) -> np.ndarray:
    ft = FT2Font(font.get_file())
    ft.set_size(48, 72)
    ft.set_text(char)
    ft.draw_glyphs_to_bitmap()
    return np.asarray(ft.get_image())


def test_font_is_cjk_and_labels_are_not_tofu():
    font = cjk_font()
    ft = FT2Font(font.get_file())
    assert ft.family_name in CJK_FAMILIES
    assert all(ft.get_char_index(ord(ch)) != 0 for ch in TITLE + "图例数据来源制图日期北千米")
    a, b = _glyph_image(font, "青"), _glyph_image(font, "溪")
    assert a.sum() > 0 and b.sum() > 0
    # A missing glyph draws the same box for every character; real glyphs differ.
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    assert not np.array_equal(a[:h, :w], b[:h, :w])


@pytest.fixture(scope="module")
def map_layers(demo_city, demo_analysis):
    layers = {k: demo_city.layers[k] for k in ("land_use", "walk_network", "boundaries", "greenways", "venues",
                                               "school_facilities", "health_stations", "metro_stations")}
    layers["gaps"] = gap_areas(demo_analysis.engine.run(), "venues", 500)
    return layers


@pytest.mark.parametrize("suffix", ["png", "pdf"])
def test_print_map_png_and_pdf(map_layers, demo_city, artifacts, suffix):
    b = demo_city.layers["boundaries"]
    path = print_map(map_layers, artifacts / f"print_map.{suffix}", title=TITLE, source="青溪区健身联盟（虚构示范数据）",
                     unit_labels=b[b["level"] == "street"], dpi=150)
    if suffix == "png":
        img = Image.open(path)
        assert img.size == (int(297 / 25.4 * 150), int(210 / 25.4 * 150))
        pixels = np.asarray(img.convert("L"))
        assert (pixels < 128).mean() > 0.01  # something is drawn
    else:
        raw = path.read_bytes()
        assert raw.startswith(b"%PDF") and b"WenQuanYi" in raw  # the CJK font is embedded


def test_print_map_refuses_bad_requests(map_layers, tmp_path):
    with pytest.raises(AnalysisError, match="print maps are .png or .pdf"):
        print_map(map_layers, tmp_path / "m.jpg", title="x", source="y")
    with pytest.raises(AnalysisError, match="Paper 'B5'"):
        print_map(map_layers, tmp_path / "m.png", title="x", source="y", paper="B5")
    with pytest.raises(AnalysisError, match="Nothing to draw"):
        print_map({"venues": map_layers["venues"].iloc[0:0]}, tmp_path / "m.png", title="x", source="y")


def test_print_map_draws_an_analysis_named_in_its_legend(demo_city, demo_analysis, artifacts, monkeypatch):
    """Coverage, numbered gap pieces and a scenario's new sites over the layers; the legend names each, the
    boundary level drawn, and the footer names the departments whose features are drawn."""
    from exports.files import share_cells
    from geo.scenarios import scenario_sites
    from geo.units import assign_units

    result = demo_analysis.engine.run()
    b = demo_city.layers["boundaries"]
    units = assign_units(demo_analysis.demand, b, level="community")
    gaps = gap_areas(result, "venues", 500, units=units, max_km2=1.0).head(8)
    sites = scenario_sites({"sites": [{"name": "东岸空地", "site_kind": "vacant_land", "lon": 114.03, "lat": 30.01},
                                      {"name": "", "site_kind": "street_point", "lon": 114.02, "lat": 29.99}]})
    frames = {"boundaries": b[b["level"] == "community"], "venues": demo_city.layers["venues"],
              "school_facilities": demo_city.layers["school_facilities"],
              "coverage": share_cells(result, "venues", 500), "gaps": gaps, "new_sites": sites}
    texts = _texts_of(monkeypatch)
    path = print_map(frames, artifacts / "print_map_analysis.png", title="青溪区 体育场馆500米覆盖与规划新增场地",
                     dpi=110)
    assert path.exists()
    assert {"社区边界", "已覆盖（步行范围内有设施）", "未覆盖（步行范围内无设施）", "覆盖缺口（按未覆盖人口排序）",
            "规划新增场地", "体育场馆"} <= set(texts)
    assert "街道边界" not in texts and "区界" not in texts
    assert {str(k) for k in range(1, 9)} <= set(texts) and {"A", "B"} <= set(texts)  # gaps numbered, sites lettered
    footer = next(t for t in texts if t.startswith("数据来源："))
    assert "体育局（体育场馆）" in footer and "教育局（学校体育设施）" in footer


def _texts_of(monkeypatch) -> list[str]:
    import matplotlib.pyplot as plt

    texts: list[str] = []
    real_savefig = plt.Figure.savefig

    def keep_text(fig, *args, **kwargs):
        texts.extend(t.get_text() for t in fig.findobj(plt.Text))
        return real_savefig(fig, *args, **kwargs)

    monkeypatch.setattr(plt.Figure, "savefig", keep_text)
    return texts


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_print_map_in_one_language(map_layers, demo_city, artifacts, monkeypatch, lang):
    """English: legend, scale, north arrow, footer and coordinate system in English, street names with their
    pinyin, no other Chinese; Chinese: the coordinate system written in Chinese."""
    import re

    texts = _texts_of(monkeypatch)
    b = demo_city.layers["boundaries"]
    streets = b[b["level"] == "street"]
    title = "Qingxi District: 10-minute walk to sports venues" if lang == "en" else TITLE
    print_map(map_layers, artifacts / f"print_map_{lang}.png", title=title, unit_labels=streets, dpi=110, lang=lang)
    footer = next(t for t in texts if t.startswith(("数据来源：", "Source:")))
    if lang == "zh":
        assert "坐标系：CGCS2000 3度带高斯-克吕格投影 中央经线114°E" in footer and "图例" in texts
        assert any(t.endswith("千米") or t.endswith("米") for t in texts)
        return
    assert "Coordinate system: CGCS2000 3-degree Gauss–Krüger, central meridian 114°E" in footer
    assert "Sports bureau (Sports venues)" in footer and "Legend" in texts and "N" in texts
    assert any(re.fullmatch(r"[\d.]+ k?m", t) for t in texts)
    names = set(streets["name"])
    for text in texts:
        for line in text.split("\n"):
            if line in names:
                continue  # a street's name, with its pinyin on the next line
            assert not re.search(r"[\u3400-\u9fff]", line), line
    assert any("\n" in t and t.split("\n")[0] in names and t.split("\n")[1].endswith("Jiedao") for t in texts)
