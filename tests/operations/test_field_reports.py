"""Field reports: routed to the department that owns the place (or answers for a bare point), due by category,
moved through the workflow by the holder only, every step kept, photos bounded and stripped of their metadata."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import ExifTags, Image

from layers.errors import AccessDeniedError, InputFileError, PersonalDataError
from office.accounts import Account
from office.field_reports import (
    CATEGORIES,
    DUE_HOURS,
    act,
    age_class,
    correct_feature,
    file_report,
    locate,
    reports_as_of,
    route_point,
)

NOW = dt.datetime(2026, 10, 12, 9, 30)
EDUCATION = Account("教育局编辑", "editor", "education")
SPORTS = Account("体育局编辑", "editor", "sports")
PARKS = Account("园林编辑", "editor", "parks")
REPORTER = Account("书院社区网格员", "viewer", "alliance")
LAYERS = ("boundaries", "venues", "school_facilities", "greenways", "health_stations")


@pytest.fixture
def city(store, demo_city):
    for name in LAYERS:
        store.layers.write(name, demo_city.layers[name], user="init")
    return store


def first_id(store, layer: str) -> str:
    return str(store.layers.read(layer)["feature_id"].iloc[0])


def jpeg_with_gps(size=(64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (30.0, 1.0, 2.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (114.0, 0.0, 1.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def filed(store, *, category="broken", layer=None, fid=None, lon=None, lat=None, kind="other", when=NOW, **kw):
    place, dept, area, name = locate(store, layer=layer, feature_id=fid, lon=lon, lat=lat, kind=kind)
    return file_report(store, place=place, department=dept, area_code=area, place_name=name, category=category,
                       body=kw.pop("body", "器材损坏"), account=kw.pop("account", REPORTER), now=when, **kw)


@pytest.mark.parametrize("layer, department", [("venues", "sports"), ("school_facilities", "education"),
                                               ("greenways", "parks"), ("health_stations", "health")])
def test_a_report_on_a_feature_goes_to_its_department_due_by_category(city, layer, department):
    fid = first_id(city, layer)
    for category in CATEGORIES:
        row = filed(city, category=category, layer=layer, fid=fid)
        assert row["department"] == department and row["status"] == "new"
        assert row["place_layer"] == layer and row["place_id"] == fid and row["place_name"]
        due = dt.datetime.strptime(row["due_at"], "%Y-%m-%d %H:%M:%S")
        assert due - NOW == dt.timedelta(hours=DUE_HOURS[category]), category
        assert row["area_code"] and row["area_code"].startswith("990101")
    stored = city.field_reports.list()
    assert len(stored) == len(CATEGORIES) and set(stored["department"]) == {department}


def test_a_feature_keeps_its_own_department_when_the_layer_is_shared_out(city):
    venues = city.layers.read("venues")
    fid = str(venues["feature_id"].iloc[1])
    venues.loc[venues["feature_id"] == fid, "department"] = "education"  # a school's hall loaded as a venue
    city.layers.write("venues", venues, user="init", mode="replace")
    assert filed(city, layer="venues", fid=fid)["department"] == "education"


def test_a_bare_point_inside_the_city_goes_by_kind_and_outside_to_the_alliance(city, monkeypatch):
    inside = dict(lon=114.0, lat=30.0)
    expected = {"venues": "sports", "school_facilities": "education", "greenways": "parks",
                "health_stations": "health", "other": "alliance"}
    for kind, dept in expected.items():
        row = filed(city, kind=kind, **inside)
        assert row["department"] == dept and row["place_layer"] is None
        assert len(row["area_code"]) == 12  # the community holding the point
    outside = filed(city, kind="greenways", lon=113.5, lat=29.5)
    assert outside["department"] == "alliance" and outside["area_code"] is None
    # A city may route one district's greenways elsewhere (here: to the sports bureau).
    monkeypatch.setenv("ONEMAP_REPORT_ROUTES", "greenways@990101=sports")
    assert filed(city, kind="greenways", **inside)["department"] == "sports"
    assert route_point("greenways", "990102001001") == "parks"
    monkeypatch.setenv("ONEMAP_REPORT_ROUTES", "greenways=fire_brigade")
    with pytest.raises(InputFileError, match="ONEMAP_REPORT_ROUTES"):
        route_point("greenways", "990101001001")


def test_due_times_are_configurable_and_age_is_judged_against_them(city, monkeypatch):
    monkeypatch.setenv("ONEMAP_REPORT_DUE_HOURS", "unsafe=12, broken=72")
    row = filed(city, category="unsafe", layer="venues", fid=first_id(city, "venues"))
    assert row["due_at"] == "2026-10-12 21:30:00"
    for hours, expected in ((5, "on_time"), (6, "due_soon"), (11.9, "due_soon"), (12, "overdue"), (200, "overdue")):
        assert age_class(row, NOW + dt.timedelta(hours=hours)) == expected, hours
    assert age_class(dict(row, status="resolved"), NOW + dt.timedelta(days=30)) == "closed"
    monkeypatch.setenv("ONEMAP_REPORT_DUE_HOURS", "unsafe=soon")
    with pytest.raises(InputFileError, match="category=hours"):
        filed(city, category="unsafe", layer="venues", fid=first_id(city, "venues"))


def test_the_holder_moves_a_report_others_cannot_and_every_step_is_kept(city):
    row = filed(city, layer="school_facilities", fid=first_id(city, "school_facilities"), category="closed")
    code = row["report_id"]
    with pytest.raises(AccessDeniedError, match="教育局|Education"):
        act(city, SPORTS, code, "accept", now=NOW)
    with pytest.raises(AccessDeniedError):
        act(city, Account("访客", "viewer", "education"), code, "accept", now=NOW)
    with pytest.raises(InputFileError, match="wrong_status|cannot be"):
        act(city, EDUCATION, code, "resolve", now=NOW)  # not accepted yet
    act(city, EDUCATION, code, "accept", now=NOW + dt.timedelta(hours=1))
    act(city, EDUCATION, code, "start", now=NOW + dt.timedelta(hours=2))
    with pytest.raises(InputFileError, match="needs a reason"):
        act(city, EDUCATION, code, "reject", now=NOW)
    done = act(city, EDUCATION, code, "resolve", reason="门卫已按开放时间开门", now=NOW + dt.timedelta(hours=20))
    assert done["status"] == "resolved" and done["changed_by"] == EDUCATION.username
    with pytest.raises(InputFileError):
        act(city, EDUCATION, code, "start", now=NOW)  # closed stays closed
    steps = city.field_reports.steps(code)
    assert list(steps["status"]) == ["new", "accepted", "in_progress", "resolved"]
    assert list(steps["actor"]) == [REPORTER.username] + [EDUCATION.username] * 3
    assert steps["reason"].iloc[-1] == "门卫已按开放时间开门"


def test_a_handover_moves_the_report_to_the_other_inbox_with_its_reason(city):
    code = filed(city, kind="other", lon=114.0, lat=30.0)["report_id"]
    admin = Account("联盟办", "admin", None)
    with pytest.raises(InputFileError, match="Cannot hand over"):
        act(city, admin, code, "reassign", reason="属绿道", to_department="alliance")
    moved = act(city, admin, code, "reassign", reason="属绿道设施", to_department="parks", now=NOW)
    assert moved["department"] == "parks" and moved["status"] == "new"
    with pytest.raises(AccessDeniedError):
        act(city, SPORTS, code, "accept")
    act(city, PARKS, code, "accept", now=NOW)
    steps = city.field_reports.steps(code)
    assert list(steps["department"]) == ["alliance", "parks", "parks"] and steps["reason"].iloc[1] == "属绿道设施"


def test_an_accepted_data_wrong_report_opens_its_feature_and_the_audit_names_it(city):
    fid = first_id(city, "school_facilities")
    code = filed(city, layer="school_facilities", fid=fid, category="data_wrong", body="开放时间写错了")["report_id"]
    with pytest.raises(InputFileError, match="accept it"):
        correct_feature(city, EDUCATION, code, {"opening_hours": "Sa,Su 08:00-18:00"})
    act(city, EDUCATION, code, "accept", now=NOW)
    with pytest.raises(AccessDeniedError):
        correct_feature(city, SPORTS, code, {"opening_hours": "Sa,Su 08:00-18:00"})
    with pytest.raises(InputFileError, match="cannot be changed here"):
        correct_feature(city, EDUCATION, code, {"department": "sports"})
    correct_feature(city, EDUCATION, code, {"opening_hours": "Sa,Su 08:00-18:00"})
    feature = city.layers.read("school_facilities").set_index("feature_id").loc[fid]
    assert feature["opening_hours"] == "Sa,Su 08:00-18:00" and feature["source"] == f"field report {code}"
    trail = city.audit.trail("school_facilities", fid)
    assert trail["new"].map(lambda n: (n or {}).get("source")).eq(f"field report {code}").any()
    assert city.field_reports.steps(code)["reason"].iloc[-1] == "edit: opening_hours"
    other = filed(city, layer="school_facilities", fid=fid, category="broken")["report_id"]
    act(city, EDUCATION, other, "accept", now=NOW)
    with pytest.raises(InputFileError, match="not a data-wrong"):
        correct_feature(city, EDUCATION, other, {"opening_hours": "24/7"})


def test_bad_reports_are_refused_and_nothing_is_stored(city):
    fid = first_id(city, "venues")
    bad = [(dict(category="noisy"), InputFileError, "not one of"),
           (dict(body="坏了" * 300), InputFileError, "at most 500"),
           (dict(body="请回电13812345678"), PersonalDataError, "phone or ID"),
           (dict(photos=[(b"%PDF-1.4 not a photo", "scan.pdf")]), InputFileError, "scan.pdf is not an image"),
           (dict(photos=[(jpeg_with_gps(), f"p{k}.jpg") for k in range(4)]), InputFileError, "At most 3 photos")]
    for kwargs, error, message in bad:
        with pytest.raises(error, match=message):
            filed(city, layer="venues", fid=fid, **kwargs)
    with pytest.raises(InputFileError, match="feature 'venue-x' is stored"):
        filed(city, layer="venues", fid="venue-x")
    with pytest.raises(InputFileError, match="not a longitude"):
        filed(city, lon="abc", lat=30)
    assert city.field_reports.list().empty and city.field_reports.steps().empty


def test_photos_are_bounded_and_their_gps_exif_is_gone(city, monkeypatch):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the phone's GPS is there
    png = io.BytesIO()
    Image.new("RGB", (30, 20), "blue").save(png, format="PNG")
    row = filed(city, layer="venues", fid=first_id(city, "venues"),
                photos=[(original, "IMG_0001.jpg"), (png.getvalue(), "shot.png")])
    assert row["photos"] == 2
    stored = city.field_reports.photos(row["report_id"])
    assert len(stored) == 2
    for data in stored:
        image = Image.open(io.BytesIO(data))
        assert image.format == "JPEG"
        assert not image.getexif() and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in image.info and "icc_profile" not in image.info
    assert Image.open(io.BytesIO(stored[0])).size == (64, 48)
    monkeypatch.setenv("ONEMAP_MAX_PHOTO_MB", "0.001")
    with pytest.raises(InputFileError, match="IMG_0002.jpg.*MB"):
        filed(city, layer="venues", fid=first_id(city, "venues"), photos=[(jpeg_with_gps((400, 300)), "IMG_0002.jpg")])
    monkeypatch.delenv("ONEMAP_MAX_PHOTO_MB")
    monkeypatch.setenv("ONEMAP_MAX_PHOTO_MEGAPIXELS", "0.01")  # a header that declares too many pixels
    with pytest.raises(InputFileError, match="megapixels"):
        filed(city, layer="venues", fid=first_id(city, "venues"), photos=[(jpeg_with_gps((400, 300)), "big.jpg")])
    assert len(city.field_reports.list()) == 1


def test_reports_as_they_stood_at_a_past_moment(city):
    a = filed(city, layer="venues", fid=first_id(city, "venues"), category="unsafe")["report_id"]  # due +24 h
    b = filed(city, layer="venues", fid=first_id(city, "venues"), category="crowded")["report_id"]  # due +14 d
    act(city, SPORTS, a, "accept", now=NOW + dt.timedelta(hours=2))
    act(city, SPORTS, a, "resolve", now=NOW + dt.timedelta(hours=30))  # late
    act(city, SPORTS, b, "reject", reason="非高峰时段", now=NOW + dt.timedelta(days=20))
    then = reports_as_of(city, NOW + dt.timedelta(hours=10)).set_index("report_id")
    assert then.loc[a, "status"] == "accepted" and then.loc[b, "status"] == "new"
    assert not then["overdue"].any()
    later = reports_as_of(city, NOW + dt.timedelta(days=3)).set_index("report_id")
    assert later.loc[a, "status"] == "resolved" and bool(later.loc[a, "overdue"])
    assert later.loc[b, "status"] == "new" and not bool(later.loc[b, "overdue"])
    before = reports_as_of(city, NOW - dt.timedelta(minutes=1))
    assert before.empty
