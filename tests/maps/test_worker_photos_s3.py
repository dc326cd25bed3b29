"""The grid worker's phone page with the photos kept in an S3 bucket (moto's S3 server on localhost): a photo taken
for a report goes into the bucket and its thumbnail comes back through geogrid; with the bucket down the page says
so in Chinese, shows no thumbnail, and the report can still be sent without the photo."""

from __future__ import annotations

from tests.maps.conftest import LiveService, serving
from tests.maps.test_worker_field import photo_bytes
from tests.maps.test_worker_page import DESKTOP, PHONE, case, free_spot, opened, tap
from tests.s3_support import S3Server, down_endpoint, s3_server, s3_settings  # noqa: F401


def photo_into_form(page, name: str) -> None:
    tap_form = page.locator("#report-form:not(.worker-hidden)")
    tap_form.wait_for()
    page.select_option("#report-category", "city_management")
    page.set_input_files("#report-photos", files=[{"name": name, "mimeType": "image/jpeg", "buffer": photo_bytes()}])


def test_a_photo_from_the_phone_is_kept_in_the_bucket_and_shown_back(
        live_service, browser, artifacts_dir, s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    settings = live_service.settings.model_copy(update=s3_settings(s3_server.endpoint_url, bucket))
    with serving(settings) as base_url:
        service = LiveService(base_url, settings, live_service.users, live_service.store_url)
        log = opened(service, browser, viewport=PHONE)
        page = log.page
        lon, lat = free_spot(service)
        tap(page, lon, lat)
        photo_into_form(page, "IMG_S3.jpg")
        page.wait_for_function("() => document.querySelector('#report-thumbs img')?.naturalWidth > 0")
        page.fill("#report-description", "桥下堆放杂物")
        page.screenshot(path=str(artifacts_dir / "worker_s3_photo_added.png"))
        page.click("#report-submit")
        page.wait_for_function("() => document.querySelector('#case-detail:not(.worker-hidden) .worker-desc')"
                               "?.textContent === '桥下堆放杂物'")
        created = case(service, int(page.get_attribute("#case-detail", "data-id")))
        [url] = created["media_urls"]
        name = url.removeprefix("/media/")
        assert s3_server.keys(bucket) == sorted([name, name + ".json", "thumbs/" + name])
        page.wait_for_function("() => document.querySelector('#case-photos img')?.naturalWidth > 0")
        assert log.console_errors == [] and log.page_errors == [] and service.remote(log) == []
        page.screenshot(path=str(artifacts_dir / "worker_s3_reported.png"))
        page.context.close()


def test_with_the_bucket_down_the_page_says_so_and_the_report_goes_without_the_photo(
        live_service, browser, artifacts_dir, down_endpoint: str) -> None:  # noqa: F811
    settings = live_service.settings.model_copy(update=s3_settings(down_endpoint, "photos"))
    with serving(settings) as base_url:
        service = LiveService(base_url, settings, live_service.users, live_service.store_url)
        log = opened(service, browser, viewport=DESKTOP)
        page = log.page
        lon, lat = free_spot(service)
        tap(page, lon, lat)
        photo_into_form(page, "IMG_DOWN.jpg")
        page.wait_for_selector("#geogrid-toast.error")
        assert page.inner_text("#geogrid-toast") == "服务暂时不可用，请稍后再试"  # the page's words for a 503
        assert page.locator("#report-thumbs img").count() == 0
        page.screenshot(path=str(artifacts_dir / "worker_s3_down.png"))
        page.fill("#report-description", "照片存储不可用时上报")
        page.click("#report-submit")
        page.wait_for_function("() => document.querySelector('#case-detail:not(.worker-hidden) .worker-desc')"
                               "?.textContent === '照片存储不可用时上报'")
        created = case(service, int(page.get_attribute("#case-detail", "data-id")))
        assert created["media_urls"] == []
        assert log.page_errors == [] and service.remote(log) == []
        page.context.close()
