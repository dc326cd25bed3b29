"""The grid worker in the field, in Chromium at phone size: my location with its accuracy and a view that follows,
reporting from there with a photo, the nearby open case of the same category and "me too", category questions,
and the place shown as the nearest building's address."""

from __future__ import annotations

import io
import re

from PIL import Image
import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import Point, shape

from tests.maps.test_worker_page import PHONE, api, case, free_spot, opened, open_cases, scope, tap

GEOD = Geod(ellps="WGS84")


def moved(lon: float, lat: float, metres: float, azimuth: float = 90.0) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return float(x), float(y)


def photo_bytes() -> bytes:
    """A phone photo whose EXIF carries a GPS position."""
    image = Image.new("RGB", (800, 600), (120, 90, 40))
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (25.0, 51.0, 0.0), 3: "E", 4: (114.0, 56.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def centre(page) -> tuple[float, float]:
    return tuple(page.evaluate("() => window.geogrid.fromDisplay(window.geogrid.map().getCenter())"))


def near(a: tuple[float, float], b: tuple[float, float], metres: float) -> bool:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2] <= metres


def test_my_location_follows_the_worker_and_a_report_there_finds_the_nearby_case(
    live_service, browser, artifacts_dir
) -> None:
    grid = shape(api(live_service, f"/api/v1/grids/{scope(live_service)}").json()["geometry"])
    lon, lat = free_spot(live_service)
    body = {"category": "city_management", "description": "占道经营的摊位", "location": {"lon": lon, "lat": lat}}
    existing = api(live_service, "/api/v1/incidents", method="POST", json=body).json()
    here = moved(lon, lat, 12)
    assert grid.contains(Point(here))
    log = opened(live_service, browser, viewport=PHONE)
    page = log.page
    page.context.grant_permissions(["geolocation"], origin=live_service.base_url)
    page.context.set_geolocation({"longitude": here[0], "latitude": here[1], "accuracy": 25})
    page.click("#locate-me")
    page.wait_for_function("() => document.body.dataset.myLocation !== undefined")
    assert page.get_attribute("#locate-me", "aria-pressed") == "true"
    assert page.locator(".leaflet-overlay-pane path.worker-accuracy").count() == 1  # the accuracy circle
    radius = page.evaluate("""() => { let r = null; window.geogrid.map().eachLayer(l => {
        if (l instanceof L.Circle) r = l.getRadius(); }); return r; }""")
    assert radius == 25
    assert near(centre(page), here, 2)
    # the worker walks on: the view follows
    farther = moved(*here, 40, 45)
    page.context.set_geolocation({"longitude": farther[0], "latitude": farther[1], "accuracy": 10})
    page.wait_for_function("p => document.body.dataset.myLocation.startsWith(p)", arg=f"{farther[0]:.6f},{farther[1]:.6f}")
    page.wait_for_function("""([lon, lat]) => { const c = window.geogrid.fromDisplay(window.geogrid.map().getCenter());
        return Math.abs(c[0] - lon) < 2e-5 && Math.abs(c[1] - lat) < 2e-5; }""", arg=list(farther))
    page.screenshot(path=str(artifacts_dir / "worker_field_location.png"))
    page.context.set_geolocation({"longitude": here[0], "latitude": here[1], "accuracy": 25})
    page.wait_for_function("p => document.body.dataset.myLocation.startsWith(p)", arg=f"{here[0]:.6f},{here[1]:.6f}")
    # report where the worker stands: the place is a building's address, not coordinates
    page.click(".leaflet-marker-pane .worker-me")
    page.click(".leaflet-popup button.worker-primary")
    page.wait_for_selector("#report-form:not(.worker-hidden)")
    where = page.inner_text("#report-where")
    assert not re.search(r"\d+\.\d{4,}", where), where
    buildings = api(live_service, f"/api/v1/grids/{scope(live_service)}").json()["buildings"]["features"]
    metric = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    spot = Point(metric.transform(*here))
    footprints = shapely.transform(np.array([shape(f["geometry"]) for f in buildings]),
                                   lambda xy: np.column_stack(metric.transform(xy[:, 0], xy[:, 1])))
    distances = list(shapely.distance(footprints, spot))
    nearest = buildings[min(range(len(buildings)), key=distances.__getitem__)]["properties"]["address"]
    shown_m = re.search(r"附近 (\d+) 米", where)
    assert where.startswith("位置: " + nearest) and shown_m, where
    assert abs(int(shown_m.group(1)) - min(distances)) <= max(2, 0.02 * min(distances))
    expected_address = nearest if min(distances) <= 50 else ""  # a far building does not name the report
    assert page.input_value("#report-address") == expected_address
    # the category is chosen, never defaulted
    assert page.input_value("#report-category") == ""
    page.fill("#report-description", "又见占道经营")
    page.click("#report-submit")
    page.wait_for_selector("#geogrid-toast.error")
    assert "请选择案件类别" in page.inner_text("#geogrid-toast")
    page.select_option("#report-category", "city_management")
    page.wait_for_selector("#report-questions select[name='q-kind']")
    # the open case of the same category 12 m away is shown, and the worker adds to it instead
    page.wait_for_selector(f"#report-nearby li[data-nearby='{existing['id']}']")
    assert "附近 250 米内同类待办案件" in page.inner_text("#report-nearby")
    page.set_input_files("#report-photos", files=[{"name": "IMG_1.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}])
    page.wait_for_selector("#report-thumbs img")
    page.wait_for_function("() => document.querySelector('#report-thumbs img').naturalWidth > 0")
    page.screenshot(path=str(artifacts_dir / "worker_field_nearby.png"))
    before = len(open_cases(live_service))
    page.click(f"#report-nearby button[data-attach='{existing['id']}']")
    page.wait_for_selector(f"#case-detail[data-id='{existing['id']}']:not([aria-busy]) #case-photos img")
    stored = case(live_service, existing["id"])
    attach = stored["trace"][-1]
    assert attach["action"] == "attach" and attach["username"] == "worker" and attach["note"] == "又见占道经营"
    assert len(attach["data"]["media_urls"]) == 1 and abs(attach["data"]["lon"] - here[0]) < 3e-5
    assert len(open_cases(live_service)) == before  # no second case
    assert "附加上报" in page.text_content("#case-detail li[data-action='attach']")
    page.wait_for_function("() => document.querySelector('#case-photos img').naturalWidth > 0")
    page.screenshot(path=str(artifacts_dir / "worker_field_attached.png"))
    assert log.console_errors == [] and log.page_errors == [] and live_service.remote(log) == []
    page.context.close()


def test_a_report_answers_its_category_questions_and_carries_a_photo(live_service, browser, artifacts_dir) -> None:
    log = opened(live_service, browser, viewport=PHONE)
    page = log.page
    lon, lat = free_spot(live_service)
    tap(page, lon, lat)
    page.wait_for_selector("#report-form:not(.worker-hidden)")
    page.select_option("#report-category", "fire_safety")
    page.wait_for_selector("#report-questions select[name='q-exit_blocked']")
    assert "消防通道或安全出口是否被堵塞" in page.inner_text("#report-questions")
    page.fill("#report-description", "楼道堆放电动车")
    page.set_input_files("#report-photos", files=[{"name": "IMG_2.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}])
    page.wait_for_selector("#report-thumbs img")
    page.click("#report-submit")  # the required question is not answered yet
    page.wait_for_selector("#geogrid-toast.error")
    assert "请回答" in page.inner_text("#geogrid-toast")
    assert page.locator("#report-form.worker-hidden").count() == 0
    page.select_option("#report-questions select[name='q-exit_blocked']", "yes")
    page.fill("#report-questions input[name='q-floor']", "3")
    page.screenshot(path=str(artifacts_dir / "worker_field_questions.png"))
    page.click("#report-submit")
    page.wait_for_function("() => document.querySelector('#case-detail:not(.worker-hidden) .worker-desc')?.textContent"
                           " === '楼道堆放电动车'")
    created = case(live_service, int(page.get_attribute("#case-detail", "data-id")))
    assert created["category"] == "fire_safety" and created["attributes"] == {"exit_blocked": "yes", "floor": 3.0}
    assert len(created["media_urls"]) == 1 and created["media_urls"][0].startswith("/media/")
    page.wait_for_function("() => document.querySelector('#case-photos img')?.naturalWidth > 0")
    assert log.console_errors == [] and log.page_errors == [] and live_service.remote(log) == []
    page.screenshot(path=str(artifacts_dir / "worker_field_reported.png"))
    page.context.close()
