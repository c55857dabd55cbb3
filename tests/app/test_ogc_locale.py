"""The data exchange server's pages in Chinese: pygeoapi's page chrome translated, every text of its templates."""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

import pygeoapi

from services.ogc_locale import kept_texts, template_texts
from tests.conftest import ogc_server


def test_every_text_of_pygeoapis_templates_has_its_chinese():
    """A pygeoapi upgrade that adds a text to its pages fails here until the catalogue has it."""
    needed = template_texts(Path(pygeoapi.__file__).parent / "templates")
    kept = kept_texts("zh")
    assert needed and not needed - set(kept), sorted(needed - set(kept))
    assert all(kept[k] for k in needed)


def test_the_pages_speak_chinese_by_default_and_english_when_asked(demo_gpkg, tmp_path):
    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    for url in ogc_server(path, "ogc_locale.log"):
        def page(query: str) -> str:
            with urllib.request.urlopen(f"{url}/collections?f=html{query}", timeout=60) as r:
                return r.read().decode("utf-8")

        zh, en = page(""), page("&lang=en")
        assert "本服务的数据集" in zh and "体育场馆" in zh
        assert "Data collections in this service" not in zh
        assert "Data collections in this service" in en and "Sports venues" in en
        with urllib.request.urlopen(f"{url}/?f=html", timeout=60) as r:
            home = r.read().decode("utf-8")
        assert "查看本服务的数据集" in home and "View the collections in this service" not in home
