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
    "page_coverage": ("覆盖分析", "Coverage"),
    "page_planning": ("选址规划", "Planning"),
    "page_export": ("导出", "Export"),
    "facility_layers": ("设施图层", "Facility layers"),
    "life_circle": ("生活圈（GB 50180-2018）", "Life circle (GB 50180-2018)"),
    "circle_5": ("5分钟（300米）", "5 minutes (300 m)"),
    "circle_10": ("10分钟（500米）", "10 minutes (500 m)"),
    "circle_15": ("15分钟（1000米）", "15 minutes (1000 m)"),
    "method": ("距离算法", "Distance"),
    "method_network": ("沿路网步行", "Walking on the network"),
    "method_line": ("直线距离", "Straight line"),
    "time_slot": ("时段", "Time slot"),
    "any_time": ("任意时间（向公众开放的设施）", "Any time (facilities open to the public)"),
    "unit_level": ("统计单元", "Units"),
    "level_district": ("区", "District"),
    "level_street": ("街道", "Street"),
    "level_community": ("社区", "Community"),
    "run": ("运行分析", "Run analysis"),
    "covered": ("覆盖人口", "Residents covered"),
    "uncovered": ("未覆盖人口", "Residents not covered"),
    "rate": ("覆盖率", "Coverage rate"),
    "per_capita": ("人均体育场地面积", "Sports area per resident"),
    "gap_ranking": ("覆盖缺口排名（按未覆盖人口）", "Gap areas ranked by residents not covered"),
    "by_unit": ("分单元统计", "By unit"),
    "zoom_unit": ("定位到单元", "Zoom to unit"),
    "estimate_note": ("人口为估算值", "Population is an estimate"),
    "analysis_error": ("无法完成分析：", "The analysis cannot run: "),
    "all_layers": ("全部设施", "All facilities"),
    "problem": ("问题", "Problem"),
    "p_sites": ("新增场地数 p", "New sites p"),
    "target": ("目标覆盖率", "Target coverage"),
    "cutoff": ("服务半径（米）", "Walking distance (m)"),
    "exact": ("精确求解（HiGHS）", "Exact (HiGHS)"),
    "solve": ("求解", "Solve"),
    "solving": ("正在求解…", "Solving…"),
    "sites_chosen": ("选中场地", "Chosen sites"),
    "marginal_curve": ("边际曲线：新增场地数与覆盖人口", "Marginal curve: residents covered by number of sites"),
    "what_if": ("情景推演", "What if"),
    "open_school": ("开放学校场地", "Open a school field"),
    "add_site": ("在地图上点击添加场地", "Click the map to add a site"),
    "added_site": ("已添加场地", "Site added at"),
    "scenario_name": ("情景名称", "Scenario name"),
    "save_scenario": ("保存情景", "Save scenario"),
    "saved": ("已保存", "Saved"),
    "compare": ("情景对比", "Compare scenarios"),
    "upload": ("导入数据文件", "Import a file"),
    "upload_file": ("选择文件", "Choose a file"),
    "coord_system": ("坐标系", "Coordinate system"),
    "check": ("检查", "Check"),
    "commit_all": ("全部导入（有问题则不导入）", "Import all (nothing if any row is refused)"),
    "commit_valid": ("仅导入合格行", "Import the valid rows only"),
    "import_done": ("导入完成", "Imported"),
    "mapping": ("字段对应", "Field mapping"),
    "report": ("检查报告", "Validation report"),
    "export_what": ("导出内容", "What to export"),
    "format": ("格式", "Format"),
    "prepare": ("生成文件", "Make the file"),
    "download": ("下载", "Download"),
    "basemap": ("底图", "Basemap"),
    "basemap_none": ("无（城市自身图层）", "None (the city's own layers)"),
    "tianditu_key": ("天地图密钥 tk", "Tianditu key (tk)"),
    "xyz_url": ("瓦片地址 {z}/{x}/{y}", "Tile URL with {z}/{x}/{y}"),
    "gcj02_tiles": ("瓦片为GCJ-02（高德/腾讯）", "Tiles are GCJ-02 (AMap/Tencent)"),
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
