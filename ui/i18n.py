"""All user-facing strings, Chinese (zh-CN, the default) and English, in one place."""

from __future__ import annotations

LANGUAGES = {"zh": "中文", "en": "English"}

STRINGS: dict[str, tuple[str, str]] = {
    "app_title": ("健身一张图", "Fitness One Map"),
    "page_one_map": ("一张图", "One map"),
    "page_data": ("数据管理", "Data"),
    "language": ("语言 / Language", "Language / 语言"),
    "store": ("数据存储", "Data store"),
    "layers": ("图层", "Layers"),
    "population_surface": ("人口分布", "Population surface"),
    "demo_banner": ("当前为虚构示范城区「青溪区」，全部数据为程序合成，不代表任何真实地点。",
                    "This is the fictional demo city Qingxi District; all data are synthetic and "
                    "describe no real place."),
    "features": ("要素数", "Features"),
    "residents": ("常住人口", "Residents"),
    "stored_layers": ("已存图层", "Stored layers"),
    "layer": ("图层", "Layer"),
    "layer_version": ("图层版本", "Layer version"),
    "changed_by": ("修改人", "Changed by"),
    "changed_at": ("修改时间", "Changed at"),
    "source": ("来源", "Source"),
    "history": ("版本记录", "Version history"),
    "choose_layer": ("选择图层", "Choose a layer"),
    "no_layers": ("存储中还没有图层。运行 `make demo-data` 生成示范城区，或在数据管理页导入数据。",
                  "The store has no layers yet. Run `make demo-data` for the demo city, or import data."),
    "store_error": ("无法打开数据存储：", "Cannot open the data store: "),
    "legend": ("图例", "Legend"),
    "department": ("责任部门", "Department"),
    "catalogue": ("图层目录", "Layer catalogue"),
    "fields": ("字段", "Fields"),
    "geometry": ("几何类型", "Geometry"),
    "targets": ("国家指标：人均体育场地面积 2.6 m²（2025），15 分钟健身圈全覆盖",
                "National targets: 2.6 m² sports area per resident (2025); 15-minute fitness circle everywhere"),
}


def t(key: str, lang: str = "zh") -> str:
    """The string ``key`` in ``lang`` ("zh" or "en"); the key itself if unknown."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def label(zh: str, en: str, lang: str) -> str:
    """Pick a catalogue label in the current language."""
    return en if lang == "en" else zh
