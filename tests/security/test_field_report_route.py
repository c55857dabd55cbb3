"""``POST /field-reports`` tried as an attacker would: without a signed link, with a forged one, with a body
larger than it admits, with too many files, with a file that is not a photo, with markup in the text —
and the one honest report is filed as its signed-in account, its photo without the phone's GPS."""

from __future__ import annotations

import io
import shutil

import pytest
from PIL import ExifTags, Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from layers.stores.geopackage import GeoPackageStore
from office.accounts import create_account
from services.field_report_route import ROUTES, max_body_bytes
from tests.operations.test_field_reports import jpeg_with_gps
from webmap.field_report_layer import report_layer
from webmap.publish import signed_map_url


@pytest.fixture
def city(demo_gpkg, tmp_path, monkeypatch):
    monkeypatch.setenv("ONEMAP_INSTANCE_DIR", str(tmp_path / "instance"))
    path = tmp_path / "city.gpkg"
    shutil.copy(demo_gpkg, path)
    with GeoPackageStore(path) as store:
        create_account(store, "grid", "field-report-2026", role="viewer", department="alliance")
        yield store


@pytest.fixture
def client(city):
    from starlette.routing import Route

    from services.field_report_route import file_from_map

    async def on_this_store(request):
        return await file_from_map(request, store=city)

    app = Starlette(routes=[Route(ROUTES[0].path, on_this_store, methods=["POST"])])
    with TestClient(app) as c:
        yield c


def signed(user: str = "grid", key: str = "field-reports") -> str:
    return signed_map_url(key, user).split("?", 1)[1] + f"&k={key}"


def form(**extra) -> dict:
    return {"layer": "school_facilities", "id": "school-001-court", "category": "closed", "body": "大门上锁"} | extra


def test_no_link_or_a_forged_one_is_refused_and_nothing_is_filed(city, client):
    before = len(city.field_reports.list())
    assert client.post("/field-reports", data=form()).status_code == 403
    forged = signed().replace("s=", "s=0")
    answer = client.post(f"/field-reports?{forged}", data=form())
    assert answer.status_code == 403 and answer.json()["message"] == "请先登录一张图再提交反馈。"
    other_user = signed().replace("u=grid", "u=admin")
    assert client.post(f"/field-reports?{other_user}", data=form()).status_code == 403
    assert len(city.field_reports.list()) == before


def test_a_signed_report_is_filed_as_its_account_with_its_photo_stripped(city, client):
    photo = jpeg_with_gps()
    answer = client.post(f"/field-reports?{signed()}&lang=en", data=form(body="<img src=x onerror=alert(1)>"),
                         files=[("photos", ("IMG_0001.jpg", photo, "image/jpeg"))])
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["ok"] and got["department"] == "education" and "Education bureau" in got["message"]
    row = city.field_reports.get(got["report_id"])
    assert row["reporter"] == "grid" and row["body"] == "<img src=x onerror=alert(1)>" and row["photos"] == 1
    stored = Image.open(io.BytesIO(city.field_reports.photos(got["report_id"])[0]))
    assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo) and "exif" not in stored.info
    # On the map the text is shown as the characters it is.
    import datetime as dt

    import folium

    m = folium.Map()
    report_layer(city.field_reports.list(), "zh", dt.datetime.now()).add_to(m)
    html = m.get_root().render()
    assert "<img src=x" not in html and "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html  # &lt; … in JSON
    anonymous = client.post(f"/field-reports?{signed()}", data=form(anonymous="1")).json()
    assert city.field_reports.get(anonymous["report_id"])["reporter"] is None


def test_bodies_and_files_beyond_the_bounds_are_refused_before_anything_is_stored(city, client):
    before = len(city.field_reports.list())
    big = b"\xff\xd8" + b"0" * (max_body_bytes() + 10)
    answer = client.post(f"/field-reports?{signed()}", data=form(), files=[("photos", ("big.jpg", big, "image/jpeg"))])
    assert answer.status_code == 413 and "MB" in answer.json()["message"]
    four = [("photos", (f"p{k}.jpg", jpeg_with_gps(), "image/jpeg")) for k in range(4)]
    assert client.post(f"/field-reports?{signed()}", data=form(), files=four).status_code == 400
    pdf = client.post(f"/field-reports?{signed()}", data=form(),
                      files=[("photos", ("scan.pdf", b"%PDF-1.4 not a photo", "application/pdf"))])
    assert pdf.status_code == 400 and pdf.json()["message"] == "scan.pdf 不是图片；照片须为 JPEG, PNG, WebP。"
    bad = client.post(f"/field-reports?{signed()}&lang=en", data=form(category="noisy"))
    assert bad.status_code == 400 and "not one of" in bad.json()["message"]
    point = client.post(f"/field-reports?{signed()}", data={"lon": "nan", "lat": "30", "category": "broken"})
    assert point.status_code == 400 and "不是经纬度" in point.json()["message"]
    assert len(city.field_reports.list()) == before
