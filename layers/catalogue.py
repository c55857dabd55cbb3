"""The layer catalogue: one declared schema per layer kind.

Every store, reader, validator and page takes its columns from here, so a layer means the
same thing in the GeoPackage, in PostGIS, in an import report and on the map.

Each stored feature also carries the system columns of :data:`SYSTEM_FIELDS`: a stable
``feature_id``, its ``source``, its owning ``department``, ``updated_at``, its own
``version`` (1 on first write, +1 at each change) and ``layer_version`` (the version of the
layer in which this state of the feature was written).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from layers.errors import UnknownLayerError

FieldType = Literal["text", "int", "float", "bool", "hours", "datetime", "date"]

#: Departments of the alliance: code → (Chinese, English).
DEPARTMENTS: dict[str, tuple[str, str]] = {
    "sports": ("体育局", "Sports bureau"),
    "education": ("教育局", "Education bureau"),
    "health": ("卫健委", "Health commission"),
    "parks": ("城建园林", "Urban construction and parks"),
    "alliance": ("健身联盟", "Fitness alliance (shared data)"),
}


@dataclass(frozen=True)
class FieldSpec:
    """One attribute of a layer kind."""

    name: str
    type: FieldType
    label_zh: str
    label_en: str
    required: bool = False
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""


@dataclass(frozen=True)
class LayerSpec:
    """The schema of one layer kind."""

    name: str
    label_zh: str
    label_en: str
    department: str
    geometry_types: tuple[str, ...]
    fields: tuple[FieldSpec, ...] = ()
    kind: Literal["vector", "raster"] = "vector"
    role: Literal["facility", "supporting"] = "supporting"
    description: str = ""
    name_field: str | None = "name"

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``; ``KeyError`` naming the fields there are."""
        for f in self.all_fields:
            if f.name == name:
                return f
        raise KeyError(f"Layer {self.name!r} has no field {name!r}; it has "
                       f"{', '.join(f.name for f in self.all_fields)}.")

    @property
    def field_names(self) -> list[str]:
        """Names of the layer's own attribute fields, in order."""
        return [f.name for f in self.fields]

    @property
    def all_fields(self) -> tuple[FieldSpec, ...]:
        """System fields then the layer's own fields."""
        return SYSTEM_FIELDS + self.fields


#: Columns every stored feature carries, whatever its layer.
SYSTEM_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("feature_id", "text", "要素编号", "Feature id", required=True,
              description="Stable id; kept across versions and stores."),
    FieldSpec("source", "text", "数据来源", "Source"),
    FieldSpec("department", "text", "责任部门", "Department", required=True,
              choices=tuple(DEPARTMENTS)),
    FieldSpec("updated_at", "datetime", "更新时间", "Updated at"),
    FieldSpec("version", "int", "版本", "Version", minimum=1),
    FieldSpec("layer_version", "int", "图层版本", "Layer version", minimum=1),
)
SYSTEM_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in SYSTEM_FIELDS)

_POINTS = ("Point", "MultiPoint")
_LINES = ("LineString", "MultiLineString")
_AREAS = ("Polygon", "MultiPolygon")

VENUE_KINDS = ("stadium", "gymnasium", "pool", "court", "pitch", "fitness_square",
               "fitness_trail", "gym", "park_fitness", "other")
SCHOOL_FACILITY_KINDS = ("track_field", "pitch", "court", "gymnasium", "pool", "other")
FEES = ("free", "low_cost", "paid")
HEALTH_STATION_KINDS = ("community_health_station", "sports_medicine_station",
                        "community_health_center", "hospital", "clinic")
HEALTH_SERVICES = ("fitness_test", "exercise_prescription", "chronic_disease",
                   "rehabilitation", "health_education")
BOUNDARY_LEVELS = ("district", "street", "community")
LAND_USES = ("residential", "park", "water", "commercial", "industrial", "education",
             "green", "vacant", "other")
SITE_KINDS = ("vacant_land", "park", "school", "street_point", "rooftop", "other")
HOSPITAL_GRADES = ("grade_3", "grade_2", "grade_1", "other")
ONE_WAY = ("yes", "no", "-1")


def _text(name: str, zh: str, en: str, **kw) -> FieldSpec:
    return FieldSpec(name, "text", zh, en, **kw)


_NAME = _text("name", "名称", "Name", required=True)
_HOURS = FieldSpec("opening_hours", "hours", "开放时间", "Opening hours",
                   description="OSM opening_hours syntax; Chinese writing is read too.")

CATALOGUE: dict[str, LayerSpec] = {spec.name: spec for spec in (
    LayerSpec(
        "venues", "体育场馆", "Sports venues", "sports", _POINTS + _AREAS, role="facility",
        fields=(
            _NAME,
            _text("venue_kind", "类型", "Kind", required=True, choices=VENUE_KINDS),
            FieldSpec("sports_area_m2", "float", "体育用地面积(m²)", "Sports area (m²)", minimum=0),
            FieldSpec("capacity", "int", "容量(人)", "Capacity (people)", minimum=0),
            _HOURS,
            FieldSpec("is_public", "bool", "对公众开放", "Open to the public"),
            _text("fee", "收费", "Fee", choices=FEES),
            _text("address", "地址", "Address"),
        ),
    ),
    LayerSpec(
        "greenways", "绿道/健身步道", "Greenways and fitness trails", "parks", _LINES,
        role="facility",
        fields=(
            _NAME,
            FieldSpec("length_m", "float", "长度(m)", "Length (m)", minimum=0),
            FieldSpec("width_m", "float", "宽度(m)", "Width (m)", minimum=0),
            _text("surface", "路面", "Surface"),
        ),
    ),
    LayerSpec(
        "greenway_entrances", "绿道出入口", "Greenway entrances", "parks", _POINTS,
        role="facility",
        fields=(
            _text("greenway_id", "所属绿道", "Greenway id", required=True),
            _text("name", "名称", "Name"),
        ),
    ),
    LayerSpec(
        "school_facilities", "学校体育设施", "School sports facilities", "education",
        _POINTS + _AREAS, role="facility", name_field="school",
        fields=(
            _text("school", "学校", "School", required=True),
            _text("facility_kind", "设施类型", "Facility kind", required=True,
                  choices=SCHOOL_FACILITY_KINDS),
            FieldSpec("area_m2", "float", "面积(m²)", "Area (m²)", minimum=0),
            FieldSpec("open_to_public", "bool", "向社会开放", "Open to the public", required=True),
            FieldSpec("opening_hours", "hours", "开放时间(课余)", "Opening hours (outside teaching)"),
            FieldSpec("booking_required", "bool", "需预约", "Booking required"),
        ),
    ),
    LayerSpec(
        "health_stations", "社区健康驿站/体卫融合服务站", "Health stations", "health",
        _POINTS, role="facility",
        fields=(
            _NAME,
            _text("station_kind", "类型", "Kind", required=True, choices=HEALTH_STATION_KINDS),
            _text("services", "服务", "Services",
                  description="Semicolon-separated: " + ", ".join(HEALTH_SERVICES)),
            _HOURS,
            _text("phone", "联系电话", "Phone"),
        ),
    ),
    LayerSpec(
        "aeds", "自动体外除颤器(AED)", "AEDs (defibrillators)", "health", _POINTS,
        fields=(
            _NAME,
            _text("building", "所在建筑", "Building"),
            _text("floor", "楼层", "Floor"),
            FieldSpec("opening_hours", "hours", "可取用时间", "Access hours",
                      description="When the AED can be taken; OSM opening_hours syntax (24/7 when always)."),
            _text("owner", "管理单位", "Owner"),
            FieldSpec("last_inspection", "date", "最近检查日期", "Last inspection"),
            _text("phone", "联系电话", "Phone"),
        ),
        description="Public-access automated external defibrillators.",
    ),
    LayerSpec(
        "hospitals", "急救医院", "Emergency hospitals", "health", _POINTS + _AREAS,
        fields=(
            _NAME,
            _text("grade", "医院等级", "Grade", choices=HOSPITAL_GRADES),
            FieldSpec("emergency", "bool", "急诊", "Emergency department",
                      description="Yes: an emergency department; no: none; empty: not confirmed yet (an imported "
                                  "hospital: used for ambulance times, marked, until the health commission "
                                  "confirms it)."),
            FieldSpec("chest_pain_centre", "bool", "胸痛中心", "Chest pain centre"),
            FieldSpec("stroke_centre", "bool", "卒中中心", "Stroke centre"),
            _text("phone", "急诊电话", "Emergency phone"),
            _text("address", "地址", "Address"),
        ),
        description="Hospitals and their emergency capability; ambulances leave from those with an emergency "
                    "department.",
    ),
    LayerSpec(
        "population", "人口", "Population", "alliance", _POINTS + _AREAS,
        description="Vector population (points or areas with a count); a GeoTIFF raster "
                    "of residents per cell is stored as the raster layer of the same name.",
        name_field=None,
        fields=(
            FieldSpec("population", "float", "人口", "Residents", required=True, minimum=0),
            FieldSpec("is_estimate", "bool", "估算", "Estimated"),
        ),
    ),
    LayerSpec(
        "boundaries", "行政边界", "Boundaries", "alliance", _AREAS,
        fields=(
            _NAME,
            _text("code", "代码", "Code", required=True),
            _text("level", "层级", "Level", required=True, choices=BOUNDARY_LEVELS),
            _text("parent_code", "上级代码", "Parent code"),
        ),
    ),
    LayerSpec(
        "walk_network", "步行路网", "Walking network", "parks", _LINES,
        fields=(
            _text("name", "道路名称", "Street name"),
            _text("highway", "道路等级", "Road class", description="OSM highway value"),
            _text("oneway", "单行", "One-way", choices=ONE_WAY,
                  description="yes: only as drawn; -1: only against; no or empty: both ways (walking ignores it)."),
            _text("maxspeed", "限速", "Speed limit", description="OSM maxspeed: 50, 50 km/h or 30 mph."),
        ),
    ),
    LayerSpec(
        "metro_stations", "地铁站", "Metro stations", "alliance", _POINTS,
        fields=(_NAME, _text("line", "线路", "Line")),
    ),
    LayerSpec(
        "candidate_sites", "候选场地", "Candidate sites", "sports", _POINTS + _AREAS,
        fields=(
            _NAME,
            _text("site_kind", "类型", "Kind", choices=SITE_KINDS),
            FieldSpec("area_m2", "float", "面积(m²)", "Area (m²)", minimum=0),
            FieldSpec("capacity", "int", "容量(人)", "Capacity (people)", minimum=0),
        ),
    ),
    LayerSpec(
        "land_use", "用地", "Land use", "alliance", _AREAS,
        fields=(
            _text("name", "名称", "Name"),
            _text("land_use", "用地类型", "Land use", required=True, choices=LAND_USES),
        ),
    ),
)}

#: Raster layers: name → label; stored as GeoTIFF in the store.
RASTER_LAYERS: dict[str, tuple[str, str]] = {
    "population": ("人口栅格", "Population raster (residents per cell)"),
}


def get_spec(name: str) -> LayerSpec:
    """Return the spec of layer ``name``.

    Raises
    ------
    UnknownLayerError
        When ``name`` is not in the catalogue; the message lists the layers there are.
    """
    try:
        return CATALOGUE[name]
    except (KeyError, TypeError):
        raise UnknownLayerError(str(name), sorted(CATALOGUE)) from None


def facility_layers() -> list[str]:
    """Names of the layers whose features are places to exercise or get advice."""
    return [n for n, s in CATALOGUE.items() if s.role == "facility"]
