"""Field mapping: a department's column names (and coded values) to the catalogue's.

:func:`guess_mapping` proposes a mapping from the column names offices actually use —
名称, 类型, 面积, 开放时间, 地址, lng/lat … — and :class:`FieldMapping` holds the one the
steward confirms, saved as JSON so the next delivery from the same department maps
itself.  Values of choice fields are mapped too (篮球场 → ``court``, 免费 → ``free``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from layers.catalogue import LayerSpec, get_spec
from layers.errors import InputFileError

#: Column names seen in deliveries, per catalogue field (compared after normalising).
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "feature_id": ("编号", "要素编号", "设施编号", "场馆编号", "id", "uid", "objectid", "code_id"),
    "name": ("名称", "场馆名称", "设施名称", "站点名称", "站名", "绿道名称", "道路名称", "name", "title", "mc"),
    "venue_kind": ("类型", "场馆类型", "场地类型", "设施类型", "类别", "kind", "type", "category", "lx"),
    "sports_area_m2": ("面积", "场地面积", "体育场地面积", "占地面积", "建筑面积", "area", "area_m2", "mj"),
    "capacity": ("容量", "容纳人数", "可容纳人数", "座位数", "capacity", "seats"),
    "opening_hours": ("开放时间", "营业时间", "开放时段", "课余开放时间", "opening_hours", "hours", "open_time"),
    "is_public": ("是否开放", "对外开放", "是否对外开放", "公共", "public", "is_public"),
    "fee": ("收费", "是否收费", "收费情况", "收费标准", "fee", "charge"),
    "address": ("地址", "详细地址", "位置", "address", "addr", "dz"),
    "school": ("学校", "学校名称", "所属学校", "school", "school_name"),
    "facility_kind": ("设施类型", "场地类型", "类型", "facility_kind", "kind", "type"),
    "area_m2": ("面积", "场地面积", "占地面积", "area", "area_m2"),
    "open_to_public": ("是否开放", "向社会开放", "对外开放", "是否对外开放", "open_to_public", "public"),
    "booking_required": ("需预约", "是否预约", "预约", "booking", "booking_required"),
    "station_kind": ("类型", "站点类型", "机构类型", "station_kind", "kind", "type"),
    "services": ("服务", "服务内容", "服务项目", "services"),
    "greenway_id": ("所属绿道", "绿道编号", "greenway_id", "greenway"),
    "length_m": ("长度", "绿道长度", "length", "length_m"),
    "width_m": ("宽度", "width", "width_m"),
    "surface": ("路面", "路面材质", "surface"),
    "population": ("人口", "常住人口", "人口数", "户籍人口", "population", "pop", "residents"),
    "is_estimate": ("估算", "是否估算", "is_estimate", "estimate"),
    "code": ("代码", "编码", "区划代码", "行政区划代码", "code", "adcode"),
    "level": ("层级", "级别", "level"),
    "parent_code": ("上级代码", "上级编码", "parent_code", "parent"),
    "highway": ("道路等级", "道路类型", "highway", "fclass", "road_class"),
    "line": ("线路", "所属线路", "line"),
    "site_kind": ("类型", "场地类型", "site_kind", "kind"),
    "land_use": ("用地类型", "用地性质", "地类", "land_use", "landuse"),
    "department": ("责任部门", "部门", "department"),
    "source": ("数据来源", "来源", "source"),
}

#: Coded values offices write, per choice field.
VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "venue_kind": {"体育场": "stadium", "体育馆": "gymnasium", "游泳馆": "pool", "游泳池": "pool",
                   "篮球场": "court", "网球场": "court", "羽毛球场": "court", "排球场": "court",
                   "乒乓球场": "court", "球场": "court", "足球场": "pitch", "运动场": "pitch",
                   "健身广场": "fitness_square", "全民健身广场": "fitness_square", "健身步道": "fitness_trail",
                   "健身房": "gym", "健身中心": "gym", "公园健身点": "park_fitness", "健身路径": "park_fitness",
                   "其他": "other", "其它": "other"},
    "facility_kind": {"田径场": "track_field", "操场": "track_field", "运动场": "track_field",
                      "足球场": "pitch", "篮球场": "court", "排球场": "court", "网球场": "court",
                      "羽毛球场": "court", "体育馆": "gymnasium", "风雨操场": "gymnasium", "游泳池": "pool",
                      "游泳馆": "pool", "其他": "other", "其它": "other"},
    "fee": {"免费": "free", "低收费": "low_cost", "优惠": "low_cost", "收费": "paid", "付费": "paid"},
    "station_kind": {"社区健康驿站": "community_health_station", "健康驿站": "community_health_station",
                     "体卫融合服务站": "sports_medicine_station", "社区卫生服务中心": "community_health_center",
                     "医院": "hospital", "诊所": "clinic", "卫生室": "clinic"},
    "level": {"区": "district", "区县": "district", "街道": "street", "镇": "street", "乡镇": "street",
              "社区": "community", "村": "community"},
    "land_use": {"居住": "residential", "居住用地": "residential", "住宅": "residential", "公园": "park",
                 "水域": "water", "商业": "commercial", "工业": "industrial", "教育": "education",
                 "绿地": "green", "空地": "vacant", "其他": "other"},
    "site_kind": {"空地": "vacant_land", "闲置地": "vacant_land", "公园": "park", "学校": "school",
                  "屋顶": "rooftop", "其他": "other"},
}


def _norm(name: object) -> str:
    text = str(name).strip().lower()
    text = re.sub(r"[（(][^)）]*[)）]", "", text)  # drop units: 面积(m²)
    return re.sub(r"[\s_\-./:：]+", "", text)


@dataclass
class FieldMapping:
    """Source column → catalogue field, and per-field value maps, for one layer."""

    layer: str
    columns: dict[str, str]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    department: str | None = None

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rename mapped columns and translate coded values; other columns are kept as they are.

        Raises
        ------
        InputFileError
            When a mapped source column is missing from the frame (a changed delivery).
        """
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise InputFileError(f"The saved mapping for {self.layer!r} names column(s) {', '.join(missing)} "
                                 f"that this file does not have; its columns are {', '.join(map(str, frame.columns))}.")
        targets = set(self.columns.values())
        clash = [c for c in frame.columns if c in targets and c not in self.columns]
        out = frame.drop(columns=clash).rename(columns=self.columns)
        tables = {k: {**VALUE_SYNONYMS.get(k, {}), **self.values.get(k, {})}
                  for k in set(VALUE_SYNONYMS) | set(self.values)}
        for target, table in tables.items():
            if target in out.columns:
                out[target] = out[target].map(
                    lambda v, t=table: t.get(v.strip(), v.strip()) if isinstance(v, str) else v)
        return out

    def save(self, path: str | Path) -> Path:
        """Write the mapping as JSON (UTF-8) for the next delivery."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps({"layer": self.layer, "department": self.department, "columns": self.columns,
                                 "values": self.values}, ensure_ascii=False, indent=2), encoding="utf-8")
        return p

    @classmethod
    def load(cls, path: str | Path) -> "FieldMapping":
        """Read a mapping saved by :meth:`save`.

        Raises
        ------
        InputFileError
            When the file is not a saved mapping or names an unknown layer or field.
        """
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            layer, columns = data["layer"], dict(data["columns"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputFileError(f"{p.name}: not a saved field mapping ({exc}).") from None
        spec = get_spec(layer)
        known = {f.name for f in spec.all_fields}
        wrong = [t for t in columns.values() if t not in known]
        if wrong:
            raise InputFileError(f"{p.name}: maps to field(s) {', '.join(wrong)} that layer {layer!r} does not "
                                 f"have; it has {', '.join(sorted(known))}.")
        return cls(layer=layer, columns=columns, values=dict(data.get("values") or {}),
                   department=data.get("department"))


def guess_mapping(columns: list[str], spec: LayerSpec) -> FieldMapping:
    """Propose which source column fills which field of ``spec``.

    A column already named as the field, or as its Chinese or English label, wins; then
    the usual names of :data:`FIELD_SYNONYMS`.  Each field and each column is used once.
    """
    targets = [f for f in spec.all_fields if f.name not in ("updated_at", "version", "layer_version")]
    normed = {c: _norm(c) for c in columns}
    taken: set[str] = set()
    mapping: dict[str, str] = {}
    for rank in range(2):
        for f in targets:
            if f.name in mapping.values():
                continue
            names = ({_norm(f.name), _norm(f.label_zh), _norm(f.label_en)} if rank == 0
                     else {_norm(s) for s in FIELD_SYNONYMS.get(f.name, ())})
            for c in columns:
                if c not in taken and normed[c] in names:
                    mapping[c] = f.name
                    taken.add(c)
                    break
    return FieldMapping(layer=spec.name, columns={c: t for c, t in mapping.items() if c != t})
