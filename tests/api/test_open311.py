"""Open311 GeoReport v2 conformance: our XML and JSON against the spec's examples, the flow, filters and errors."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
import shapely
from fastapi.testclient import TestClient
from geoalchemy2.shape import to_shape
from httpx import Response
from sqlalchemy import Engine, func, select

from api.app import create_app
from api.deps import StoreGeocoder
from geogrid.db.models import Building, Grid, Incident, PlanVersion
from geogrid.db.session import session_scope
from geogrid.incidents.taxonomy import DEFAULT_FILE
from tests.api.conftest import make_settings

KEY = "test-key"
V2 = "/open311/v2"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

# The spec's example answers (GeoReport v2, open311/open311.github.io GeoReport/v2/index.md), verbatim but for
# whitespace; the JSON examples are the Spark mapping of these, with the same keys in the same order.
SPEC_SERVICE_LIST = """<?xml version="1.0" encoding="utf-8"?>
<services><service><service_code>001</service_code><service_name>Cans left out 24x7</service_name>
<description>Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators
will be cited.</description><metadata>true</metadata><type>realtime</type><keywords>lorem, ipsum, dolor</keywords>
<group>sanitation</group></service></services>"""
SPEC_SERVICE_DEFINITION = """<?xml version="1.0" encoding="utf-8"?>
<service_definition><service_code>DMV66</service_code><attributes><attribute><variable>true</variable>
<code>WHISHETN</code><datatype>singlevaluelist</datatype><required>true</required><datatype_description>
</datatype_description><order>1</order><description>What is the ticket/tag/DL number?</description><values>
<value><key>123</key><name>Ford</name></value><value><key>124</key><name>Chrysler</name></value></values>
</attribute></attributes></service_definition>"""
SPEC_POST_ANSWER = """<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>293944</service_request_id><service_notice>The City will inspect
and require the responsible party to correct within 24 hours and/or issue a Correction Notice or Notice of Violation
of the Public Works Code</service_notice><account_id/></request></service_requests>"""
SPEC_TOKEN_ANSWER = """<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>638344</service_request_id><token>12345</token></request>
</service_requests>"""
SPEC_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>638344</service_request_id><status>closed</status>
<status_notes>Duplicate request.</status_notes><service_name>Sidewalk and Curb Issues</service_name>
<service_code>006</service_code><description></description><agency_responsible></agency_responsible>
<service_notice></service_notice><requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
<updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime><expected_datetime>2010-04-15T06:37:38-08:00
</expected_datetime><address>8TH AVE and JUDAH ST</address><address_id>545483</address_id><zipcode>94122</zipcode>
<lat>37.762221815</lat><long>-122.4651145</long>
<media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg </media_url></request></service_requests>"""
SPEC_ERRORS = """<?xml version="1.0" encoding="utf-8"?>
<errors><error><code>403</code><description>Invalid api_key received -- can't proceed with create_request.
</description></error></errors>"""
# The Service Discovery spec's example (wiki.open311.org/Service_Discovery), one endpoint kept.
SPEC_DISCOVERY = """<?xml version="1.0" encoding="UTF-8"?>
<discovery><changeset>2011-02-03 14:18</changeset><contact>You can email or call for assistance api@mycity.org
</contact><key_service>You can request a key here: http://api.mycity.gov/api_key/request</key_service><endpoints>
<endpoint><specification>http://wiki.open311.org/GeoReport_v2</specification><url>http://open311.mycity.gov/v2</url>
<changeset>2010-11-23 09:01</changeset><type>production</type><formats><format>text/xml</format></formats>
</endpoint></endpoints></discovery>"""
LISTS = {"services", "service_requests", "errors", "attributes", "values", "endpoints", "formats"}
W3C_WITH_ZONE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ATTRIBUTES_TOML = """
[[categories.environment_sanitation.attributes]]
code = "waste_kind"
description = "什么垃圾? (What kind of waste?)"
datatype = "singlevaluelist"
required = true
values = [{ key = "household", name = "生活垃圾" }, { key = "construction", name = "建筑垃圾" }]

[[categories.environment_sanitation.attributes]]
code = "smells"
description = "有什么气味? (What does it smell of?)"
datatype = "multivaluelist"
values = [{ key = 1, name = "腐臭" }, { key = 2, name = "化学品" }]

[[categories.environment_sanitation.attributes]]
code = "bags"
description = "几袋? (How many bags?)"
datatype = "number"
"""


# --- fixtures and helpers -----------------------------------------------------------------------------


@pytest.fixture
def taxonomy_file(tmp_path: Path) -> Path:
    """The shipped taxonomy with three questions added to environment_sanitation."""
    path = tmp_path / "taxonomy.toml"
    path.write_text(DEFAULT_FILE.read_text(encoding="utf-8") + ATTRIBUTES_TOML, encoding="utf-8")
    return path


@pytest.fixture
def o311(store_url: str, tmp_path: Path, taxonomy_file: Path) -> Iterator[TestClient]:
    """The app over the test's own store, with an Open311 api key and the taxonomy with attributes."""
    settings = make_settings(store_url, tmp_path).model_copy(
        update={"open311_api_keys": f"other-key, {KEY}", "taxonomy_file": taxonomy_file})
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def worker_grid(users: dict) -> str:
    return users["worker"][1]


def grid_point(store: Engine, grid_code: str) -> tuple[float, float]:
    """A point well inside a published grid."""
    with session_scope(store) as session:
        geom = session.scalar(
            select(Grid.geom).join(PlanVersion).where(PlanVersion.status == "published", Grid.code == grid_code))
        point = to_shape(geom).representative_point()
    return point.x, point.y


def stored(store: Engine, request_id: int) -> Incident:
    """The incident row behind a service request (detached, attributes loaded)."""
    with session_scope(store) as session:
        incident = session.get(Incident, request_id)
        session.expunge(incident)
    return incident


def incident_count(store: Engine) -> int:
    with session_scope(store) as session:
        return session.scalar(select(func.count()).select_from(Incident))


def xml_of(answer: Response) -> ET.Element:
    """The answer's XML root, after checking the declaration and content type the spec asks for."""
    assert answer.headers["content-type"] == "text/xml; charset=utf-8"
    assert answer.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    return ET.fromstring(answer.content)


def json_of(answer: Response) -> Any:
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    return answer.json()


def tags(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def spec(text: str) -> ET.Element:
    return ET.fromstring(text.encode())


def xml_shape(element: ET.Element) -> Any:
    """The JSON shape the Spark convention makes of element: lists, ordered keys, leaves."""
    if element.tag in LISTS:
        return [xml_shape(child) for child in element]
    if len(element):
        return [(child.tag, xml_shape(child)) for child in element]
    return "leaf"


def json_shape(value: Any) -> Any:
    """The same shape of a JSON value."""
    if isinstance(value, list):
        return [json_shape(v) for v in value]
    if isinstance(value, dict):
        return [(k, json_shape(v)) for k, v in value.items()]
    return "leaf"


def same_in_both_formats(client: TestClient, path: str, **kwargs: Any) -> tuple[ET.Element, Any]:
    """The resource in XML and in JSON, checked to be the Spark mapping of each other."""
    method = client.post if "data" in kwargs or "content" in kwargs else client.get
    root = xml_of(method(f"{path}.xml", **kwargs))
    document = json_of(method(f"{path}.json", **kwargs))
    assert xml_shape(root) == json_shape(document)
    return root, document


def w3c_time(text: str) -> datetime:
    """A datetime the spec's way: W3C with a zone."""
    assert W3C_WITH_ZONE.match(text), text
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None
    return moment


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def post(client: TestClient, fmt: str = "json", **fields: Any) -> Response:
    return client.post(f"{V2}/requests.{fmt}", data={"api_key": KEY, "service_code": "city_management"} | fields)


def new_request(client: TestClient, lon: float, lat: float, **fields: Any) -> int:
    answer = post(client, lat=lat, long=lon, description="占道经营", **fields)
    assert answer.status_code == 200, answer.text
    return answer.json()[0]["service_request_id"]


def get_one(client: TestClient, request_id: int) -> dict[str, Any]:
    answer = client.get(f"{V2}/requests/{request_id}.json")
    assert answer.status_code == 200, answer.text
    return answer.json()[0]


def listed(client: TestClient, **params: str) -> set[int]:
    answer = client.get(f"{V2}/requests.json", params=params)
    assert answer.status_code == 200, answer.text
    return {item["service_request_id"] for item in answer.json()}


def act(client: TestClient, headers: dict, request_id: int, action: str, **extra: Any) -> None:
    answer = client.post(f"/api/v1/incidents/{request_id}/actions", json={"action": action} | extra, headers=headers)
    assert answer.status_code == 200, (action, answer.text)


def assert_error(answer: Response, status: int, words: str, fmt: str = "json") -> None:
    """The spec's error answer: the HTTP status, and the same code with a description in the body."""
    assert answer.status_code == status, answer.text
    if fmt == "xml":
        root = xml_of(answer)
        assert root.tag == "errors" and [tags(e) for e in root] == [tags(spec(SPEC_ERRORS)[0])]
        code, description = root[0].findtext("code"), root[0].findtext("description")
        assert code == str(status)
    else:
        body = json_of(answer)
        assert isinstance(body, list) and [list(e) for e in body] == [["code", "description"]]
        code, description = body[0]["code"], body[0]["description"]
        assert code == status
    assert words in description, description


# --- discovery and services -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/open311/discovery", f"{V2}/discovery"])
def test_discovery_names_the_v2_endpoint_in_xml_and_json(o311, path) -> None:
    root, document = same_in_both_formats(o311, path)
    example = spec(SPEC_DISCOVERY)
    assert root.tag == "discovery" and tags(root) == tags(example)
    endpoint = root.find("endpoints/endpoint")
    assert tags(endpoint) == tags(example.find("endpoints/endpoint"))
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url").endswith("/open311/v2") and endpoint.findtext("type") == "production"
    assert document["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    w3c_time(document["changeset"])


def test_the_service_list_is_our_categories_shaped_like_the_spec_example(o311) -> None:
    root, document = same_in_both_formats(o311, f"{V2}/services")
    example = spec(SPEC_SERVICE_LIST)
    assert root.tag == example.tag and {s.tag for s in root} == {"service"}
    assert all(tags(service) == tags(example[0]) for service in root)
    assert all(list(item) == tags(example[0]) for item in document)
    by_code = {item["service_code"]: item for item in document}
    assert set(by_code) >= {"city_management", "environment_sanitation", "fire_safety"}
    assert all(isinstance(item["service_code"], str) and item["type"] == "realtime" for item in document)
    assert by_code["disputes"]["metadata"] is False and by_code["environment_sanitation"]["metadata"] is True
    assert by_code["city_management"]["metadata"] is True  # the shipped taxonomy asks the kind of problem
    assert by_code["city_management"]["service_name"] == "城市管理"
    assert root.find("service/metadata").text in ("true", "false")


def test_a_service_definition_is_shaped_like_the_spec_example(o311) -> None:
    root, document = same_in_both_formats(o311, f"{V2}/services/environment_sanitation")
    example = spec(SPEC_SERVICE_DEFINITION)
    assert root.tag == example.tag and tags(root) == tags(example)
    attributes = root.findall("attributes/attribute")
    assert [tags(a) for a in attributes] == [tags(example.find("attributes/attribute"))] * 3
    assert tags(attributes[0].find("values/value")) == tags(example.find("attributes/attribute/values/value"))
    assert isinstance(document, dict) and document["service_code"] == "environment_sanitation"
    first, smells, bags = document["attributes"]
    assert (first["code"], first["datatype"], first["required"], first["variable"], first["order"]) == \
        ("waste_kind", "singlevaluelist", True, True, 1)
    assert first["values"] == [{"key": "household", "name": "生活垃圾"}, {"key": "construction", "name": "建筑垃圾"}]
    assert smells["values"][0] == {"key": 1, "name": "腐臭"} and (bags["order"], bags["values"]) == (3, [])
    plain = json_of(o311.get(f"{V2}/services/disputes.json"))
    assert plain == {"service_code": "disputes", "attributes": []}


# --- the flow -------------------------------------------------------------------------------------------------


def test_a_report_goes_from_post_to_token_to_request_to_list(o311, store, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    body = (  # the spec's example request, with our service, key and a point in the grid
        f"api_key={KEY}&jurisdiction_id=geogrid&service_code=city_management&lat={lat}&long={lon}"
        "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456"
        "&first_name=john&last_name=smith&phone=111111111&description=A+large+sinkhole+is+destroying+the+street"
        "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
        "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001"
    )
    answer = o311.post(f"{V2}/requests.xml", content=body, headers=FORM)
    assert answer.status_code == 200, answer.text
    root = xml_of(answer)
    example = spec(SPEC_POST_ANSWER)
    assert root.tag == example.tag and tags(root) == ["request"] and tags(root[0]) == tags(example[0])
    request_id = int(root[0].findtext("service_request_id"))
    assert root[0].findtext("account_id") == "123456" and "24" in root[0].findtext("service_notice")

    incident = stored(store, request_id)
    assert (incident.channel, incident.reported_by, incident.grid_code) == ("citizen_app", "open311", worker_grid)
    assert incident.located_by == "point" and incident.address == "1234 5th street"
    assert incident.attributes == {"open311": {"attributes": {}, "device_id": "tt222111", "account_id": "123456"}}

    token_root, token_doc = same_in_both_formats(o311, f"{V2}/tokens/{incident.token}")
    assert tags(token_root[0]) == tags(spec(SPEC_TOKEN_ANSWER)[0])
    assert token_doc == [{"service_request_id": request_id, "token": incident.token}]

    one_root, one_doc = same_in_both_formats(o311, f"{V2}/requests/{request_id}")
    assert one_root.tag == "service_requests" and tags(one_root) == ["request"]
    assert tags(one_root[0]) == tags(spec(SPEC_REQUEST)[0]) and list(one_doc[0]) == tags(spec(SPEC_REQUEST)[0])
    item = one_doc[0]
    assert (item["service_request_id"], item["status"], item["service_code"]) == (request_id, "open", "city_management")
    assert item["service_name"] == "城市管理" and item["description"] == "A large sinkhole is destroying the street"
    assert item["address"] == "1234 5th street" and item["zipcode"] is None and item["address_id"] is None
    # the public sees the point rounded to about 50 m (the default taxonomy's public_precision_m), not the door
    assert (item["lat"], item["long"]) == pytest.approx((lat, lon), abs=0.00026) and item["lat"] != lat
    assert item["media_url"] == "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg"
    assert item["agency_responsible"].endswith(f"网格 {worker_grid}") and "已上报" in item["status_notes"]
    requested, expected = w3c_time(item["requested_datetime"]), w3c_time(item["expected_datetime"])
    assert item["requested_datetime"].endswith("+08:00") and abs(requested - datetime.now(UTC)) < timedelta(minutes=5)
    assert expected - requested == timedelta(hours=24) and w3c_time(item["updated_datetime"]) >= requested
    assert one_root[0].findtext("zipcode") == "" and one_root[0].findtext("service_code") == "city_management"

    assert request_id in listed(o311)
    list_root = xml_of(o311.get(f"{V2}/requests.xml"))
    assert {r.tag for r in list_root} == {"request"} and all(tags(r) == tags(spec(SPEC_REQUEST)[0]) for r in list_root)


def test_contact_data_is_stored_but_never_shown(o311, store, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    secret = {"email": "zhang.san@example.cn", "phone": "13800138000", "first_name": "三丰", "last_name": "张",
              "device_id": "device-4711"}
    request_id = new_request(o311, lon, lat, **secret)
    incident = stored(store, request_id)
    assert incident.reporter_name == "三丰 张" and incident.reporter_contact == "zhang.san@example.cn, 13800138000"
    pages = [o311.get(f"{V2}/requests/{request_id}.{fmt}").text for fmt in ("xml", "json")]
    pages += [o311.get(f"{V2}/requests.{fmt}", params={"service_request_id": request_id}).text for fmt in ("xml", "json")]
    for page in pages:
        assert str(request_id) in page
        assert not any(value in page for value in secret.values()), page


def test_status_is_open_until_our_workflow_closes_the_case(o311, store, auth, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    closing, dispatched = new_request(o311, lon, lat), new_request(o311, lon, lat)
    for username, action in (("worker", "accept"), ("worker", "handle"), ("leader_c", "close")):
        act(o311, auth(username), closing, action)
    for username, action, extra in (("worker", "escalate", {}), ("leader_c", "escalate", {}),
                                    ("leader_s", "dispatch", {"note": "请城管队员到场"})):
        act(o311, auth(username), dispatched, action, **extra)
    closed = get_one(o311, closing)
    assert closed["status"] == "closed" and closed["status_notes"].startswith("已结案 (closed)")
    assert closed["service_notice"] is None
    assert w3c_time(closed["updated_datetime"]) == stored(store, closing).closed_at.replace(microsecond=0)
    sent = get_one(o311, dispatched)
    assert sent["status"] == "open" and sent["agency_responsible"] == "区城市管理局"
    assert "已派遣部门" in sent["status_notes"] and "level 3" in sent["status_notes"]
    assert "请城管队员到场" in sent["status_notes"] and "72" in sent["service_notice"]
    both = {closing, dispatched}
    assert listed(o311, status="closed") & both == {closing}
    assert listed(o311, status="open") & both == {dispatched}
    assert listed(o311, status="open,closed") & both == both


def test_every_filter_of_the_spec(o311, store, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    city = new_request(o311, lon, lat)
    answer = post(o311, service_code="environment_sanitation", lat=lat, long=lon, **{"attribute[waste_kind]": "household"})
    sanitation = answer.json()[0]["service_request_id"]
    both, now = {city, sanitation}, datetime.now(UTC)
    assert listed(o311, service_code="city_management") & both == {city}
    assert listed(o311, service_code="city_management,environment_sanitation") & both == both
    assert listed(o311, start_date=z(now + timedelta(days=1))) & both == set()
    assert listed(o311, end_date=z(now - timedelta(days=1))) & both == set()
    assert listed(o311, start_date=z(now - timedelta(hours=1)), end_date=z(now + timedelta(hours=1))) >= both
    assert listed(o311, start_date=z(now - timedelta(hours=1))) >= both
    assert listed(o311, end_date=z(now + timedelta(hours=1)), jurisdiction_id="geogrid") >= both
    assert listed(o311, start_date=(now - timedelta(hours=1)).strftime("%Y-%m-%d")) >= both  # a bare W3C date
    # service_request_id overrides every other argument, the default 90-day window included
    overridden = {"service_request_id": f"{city}, {sanitation}", "status": "closed", "service_code": "fire_safety",
                  "start_date": "2010-01-01T00:00:00Z", "end_date": "2010-02-01T00:00:00Z"}
    assert listed(o311, **overridden) == both
    # an offset written with a raw '+' reaches the server as a space: still read as the offset
    answer = o311.get(f"{V2}/requests.json?end_date={z(now + timedelta(hours=1))[:-1]}+00:00")
    assert answer.status_code == 200 and {r["service_request_id"] for r in answer.json()} >= both


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2025-06-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"}, "before start_date"),
        ({"start_date": "yesterday"}, "W3C"),
        ({"start_date": "2025-01-01T00:00:00"}, "time zone"),
        ({"end_date": "2025-02-30"}, "not a valid date"),
        ({"status": "pending"}, "open or closed"),
        ({"service_request_id": "1,two"}, "two"),
    ],
)
def test_bad_list_arguments_get_400(o311, params, words) -> None:
    assert_error(o311.get(f"{V2}/requests.json", params=params), 400, words)
    assert_error(o311.get(f"{V2}/requests.xml", params=params), 400, words, "xml")


# --- locations and attributes -------------------------------------------------------------------------------


def test_an_address_id_names_one_of_our_buildings(o311, store, worker_grid) -> None:
    with session_scope(store) as session:
        building = session.execute(
            select(Building.id, Building.address, Building.geom).where(Building.address.is_not(None))
            .order_by(Building.id).limit(1)).one()
    answer = post(o311, address_id=building.id)
    assert answer.status_code == 200, answer.text
    item = get_one(o311, answer.json()[0]["service_request_id"])
    assert item["address_id"] == building.id and item["address"] == building.address
    assert to_shape(building.geom).distance(shapely.Point(item["long"], item["lat"])) < 0.0004  # about 50 m
    assert_error(post(o311, address_id="no-such-building"), 400, "no-such-building")


def test_an_address_string_alone_is_geocoded(o311, store, worker_grid, monkeypatch) -> None:
    lon, lat = grid_point(store, worker_grid)
    asked = []

    def geocode_one(self, text):
        asked.append(text)
        return SimpleNamespace(building_id="b-1", lon=lon, lat=lat, method="exact", confidence=1.0,
                               matched_address=text, reason=None)

    monkeypatch.setattr(StoreGeocoder, "geocode_one", geocode_one)
    answer = post(o311, address_string="文清路8号")
    assert answer.status_code == 200, answer.text
    item = get_one(o311, answer.json()[0]["service_request_id"])
    assert asked == ["文清路8号"] and item["address"] == "文清路8号"
    assert (item["long"], item["lat"]) == pytest.approx((lon, lat), abs=0.00026)  # rounded to about 50 m
    assert item["agency_responsible"].endswith(worker_grid)


def test_attributes_are_checked_against_the_service_definition_and_kept(o311, store, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    fields = {"service_code": "environment_sanitation", "lat": lat, "long": lon}
    assert_error(post(o311, **fields), 400, "attribute[waste_kind] is required")
    assert_error(post(o311, **fields, **{"attribute[waste_kind]": "nuclear"}), 400, "nuclear")
    assert_error(post(o311, **fields, **{"attribute[waste_kind]": "household", "attribute[bags]": "many"}), 400, "number")
    body = f"api_key={KEY}&service_code=environment_sanitation&lat={lat}&long={lon}&attribute[waste_kind]=household" \
           "&attribute[smells][]=1&attribute[smells][]=2&attribute[bags]=3&attribute[unasked]=x"
    answer = o311.post(f"{V2}/requests.json", content=body, headers=FORM)
    assert answer.status_code == 200, answer.text
    kept = stored(store, answer.json()[0]["service_request_id"]).attributes["open311"]["attributes"]
    assert kept == {"waste_kind": "household", "smells": ["1", "2"], "bags": 3.0}


# --- errors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_wrong_or_missing_api_key_is_403_and_stores_nothing(o311, store, worker_grid, fmt) -> None:
    lon, lat = grid_point(store, worker_grid)
    before = incident_count(store)
    wrong = post(o311, fmt, api_key="xyz", lat=lat, long=lon)
    assert_error(wrong, 403, "Invalid api_key received -- can't proceed with create_request.", fmt)
    missing = o311.post(f"{V2}/requests.{fmt}", data={"service_code": "city_management", "lat": lat, "long": lon})
    assert_error(missing, 403, "api_key", fmt)
    assert incident_count(store) == before


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_errors_use_the_spec_format_and_status_codes(o311, store, worker_grid, fmt) -> None:
    lon, lat = grid_point(store, worker_grid)
    before = incident_count(store)
    assert_error(post(o311, fmt, service_code="aliens", lat=lat, long=lon), 404, "aliens", fmt)
    assert_error(post(o311, fmt, service_code="", lat=lat, long=lon), 400, "service_code was not provided", fmt)
    assert_error(post(o311, fmt, description="no location"), 400, "location", fmt)
    assert_error(post(o311, fmt, lat=lat), 400, "lat and long", fmt)
    assert_error(post(o311, fmt, lat=lon, long=lat), 400, "swapped", fmt)
    assert_error(post(o311, fmt, lat=lat, long=lon, description="长" * 4001), 400, "4000", fmt)
    assert_error(post(o311, fmt, lat=lat, long=lon, media_url="javascript:alert(1)"), 400, "media_url", fmt)
    assert_error(post(o311, fmt, lat=lat, long=lon, jurisdiction_id="sfgov.org"), 404, "sfgov.org", fmt)
    assert incident_count(store) == before
    assert_error(o311.get(f"{V2}/services/aliens.{fmt}"), 404, "aliens", fmt)
    assert_error(o311.get(f"{V2}/services.{fmt}", params={"jurisdiction_id": "sfgov.org"}), 404, "sfgov.org", fmt)
    assert_error(o311.get(f"{V2}/requests/999999.{fmt}"), 404, "999999", fmt)
    assert_error(o311.get(f"{V2}/requests/abc.{fmt}"), 404, "abc", fmt)
    assert_error(o311.get(f"{V2}/tokens/{quote('no-such-token')}.{fmt}"), 404, "no-such-token", fmt)
    assert_error(o311.delete(f"{V2}/requests.{fmt}"), 400, "DELETE", fmt)
    assert_error(o311.get(f"{V2}/no-such-thing.{fmt}"), 404, "no Open311 resource", fmt)


def test_an_unknown_format_or_path_is_answered_in_xml(o311) -> None:
    assert_error(o311.get(f"{V2}/services.csv"), 400, "unknown format 'csv'", "xml")
    assert_error(o311.get(f"{V2}/services"), 404, "no Open311 resource", "xml")
    assert_error(o311.get(V2), 404, "no Open311 resource", "xml")
    assert xml_of(o311.get(f"{V2}/services.xml", params={"jurisdiction_id": ""})).tag == "services"  # empty: not given


def test_xml_text_is_escaped_and_stays_parseable(o311, store, worker_grid) -> None:
    lon, lat = grid_point(store, worker_grid)
    nasty = "垃圾 <b>&amp; \"quotes\" ]]> \x01\x0b end"
    request_id = new_request(o311, lon, lat, address_string=nasty)
    root = xml_of(o311.get(f"{V2}/requests/{request_id}.xml"))
    assert root.find("request/address").text == "垃圾 <b>&amp; \"quotes\" ]]>  end"
