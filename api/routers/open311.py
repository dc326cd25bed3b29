"""Open311 GeoReport v2 at /open311/v2: services (our categories), service requests (our incidents), tokens, discovery."""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.errors import MESSAGES, DataError
from api.ids import parse_id
from api.deps import SettingsDep, StoreGeocoder, TaxonomyDep, sessions_for
from api.settings import DEMO_OPEN311_KEY, Settings
from geogrid.geo.io import safe_cell
from geogrid.db.models import Incident, utcnow
from geogrid.errors import InputError
from geogrid.incidents import open311
from geogrid.incidents.china_time import CHINA, iso_china
from geogrid.incidents.open311 import Names
from geogrid.incidents.taxonomy import DEFAULT_FILE, Attribute, Category, Taxonomy
from geogrid.store import incidents as store
from geogrid.store.plans import NotFound
from geogrid.incidents.reports import MAX_LENGTHS as REPORT_LENGTHS, MAX_MEDIA_URL

logger = logging.getLogger("geogrid.api.open311")

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MEDIA_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
ITEM_ELEMENTS = {  # the element each list holds, as in the spec's examples (JSON drops it: the Spark convention)
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
USERNAME = "open311"  # who an Open311 report is recorded as: the api key's owner is unknown
CHANNEL = "citizen_app"
WINDOW = timedelta(days=90)  # the spec's default and widest date range
MAX_REQUESTS = 1000  # the spec's default query limit
MAX_FORM_FIELDS = 100  # a report's fields and attribute answers
MAX_LENGTHS = {"description": REPORT_LENGTHS["description"], "address_string": REPORT_LENGTHS["address"],
               "media_url": MAX_MEDIA_URL, "name": REPORT_LENGTHS["reporter_name"],
               "contact": REPORT_LENGTHS["reporter_contact"]}
W3C_DATETIME = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2}))?)?)?$"
)
ATTRIBUTE_FIELD = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Open311Error(Exception):
    """An error answered in the spec's format: the HTTP status (also the body's code) and a description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass(frozen=True)
class Answer:
    """What an endpoint answers: the XML root element, the data under it (the JSON document), the HTTP status."""

    root: str
    data: list[Any] | dict[str, Any]
    status: int = 200


# --- formats ----------------------------------------------------------------------------------------------


def xml_text(value: Any) -> str | None:
    """A value as XML text: booleans as true/false, None as an empty element, no characters XML forbids."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def xml_element(name: str, value: Any) -> ET.Element:
    """The element name holding value: a list as repeated item elements, a dict as child elements in order."""
    node = ET.Element(name)
    if isinstance(value, list):
        node.extend(xml_element(ITEM_ELEMENTS[name], item) for item in value)
    elif isinstance(value, dict):
        node.extend(xml_element(key, item) for key, item in value.items())
    else:
        node.text = xml_text(value)
    return node


def xml_document(answer: Answer) -> bytes:
    """The answer as an indented UTF-8 XML document with its declaration, empty elements written <x></x>."""
    root = xml_element(answer.root, answer.data)
    ET.indent(root, space="    ")
    return (XML_DECLARATION + ET.tostring(root, encoding="unicode", short_empty_elements=False) + "\n").encode("utf-8")


def json_document(answer: Answer) -> bytes:
    """The answer's data as UTF-8 JSON laid out like the spec's examples."""
    return json.dumps(answer.data, ensure_ascii=False, indent=2, separators=(",", ":")).encode("utf-8")


def respond(answer: Answer, output: str) -> Response:
    """The answer in the format the URL asked for (xml or json)."""
    body = json_document(answer) if output == "json" else xml_document(answer)
    return Response(body, status_code=answer.status, media_type=MEDIA_TYPES[output])


def format_of_path(path: str) -> str:
    """The format an error is answered in: json if the URL ends in .json, else xml (the required format)."""
    return "json" if path.endswith(".json") else "xml"


# --- errors -------------------------------------------------------------------------------------------------


def error_answer(request: Request, exc: Exception) -> Answer:
    """The spec's error answer for exc: 404 for what does not exist, 403 for api keys, 400 for the rest."""
    if isinstance(exc, Open311Error):
        status, description = exc.status, exc.description
    elif isinstance(exc, InputError):
        status, description = 400, str(exc)
    elif isinstance(exc, NotFound):
        status, description = 404, str(exc)
    elif isinstance(exc, StarletteHTTPException):  # also the form parser's own 400s
        status, description = exc.status_code, str(exc.detail)
    elif isinstance(exc, DataError):
        status, description = 400, MESSAGES[DataError]
    elif isinstance(exc, RequestValidationError):
        status, description = 400, "; ".join(str(e.get("msg")) for e in exc.errors())
    else:
        logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        status, description = 400, "general service error: the request could not be processed; please tell us"
    return Answer("errors", [{"code": status, "description": description}], status)


class Open311Route(APIRoute):
    """A route whose every failure, from reading the request to the last commit, answers in the spec's format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The usual handler, with exceptions turned into the spec's error answers."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # noqa: BLE001 - every error under /open311 answers in the spec's format
                return respond(error_answer(request, exc), format_of_path(request.url.path))

        return guarded


router = APIRouter(prefix="/open311", tags=["Open311"], route_class=Open311Route)


# --- request pieces -----------------------------------------------------------------------------------------


def output_format(fmt: str) -> str:
    """The format the URL ends in: xml or json, else 400."""
    if fmt not in MEDIA_TYPES:
        raise Open311Error(400, f"unknown format {fmt!r}: end the URL in .xml or .json")
    return fmt


Output = Annotated[str, Depends(output_format)]


@dataclass(frozen=True)
class Form:
    """The fields of a POSTed form, in order (a field may repeat)."""

    pairs: list[tuple[str, str]]

    def get(self, name: str) -> str | None:
        """The field's first value, stripped; None when it is missing or empty (the spec's optional arguments)."""
        value = next((v for k, v in self.pairs if k == name), None)
        return (value or "").strip() or None


async def read_form(request: Request) -> Form:
    """The POSTed form (x-www-form-urlencoded as the spec sends it, or multipart), text fields only."""
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)  # no file parts: nothing spooled to disk
    try:
        return Form([(key, value) for key, value in form.multi_items() if isinstance(value, str)])
    finally:
        await form.close()


FormFields = Annotated[Form, Depends(read_form)]


def given(value: str | None) -> str | None:
    """A query argument, None when missing or empty (an empty argument counts as not passed)."""
    return (value or "").strip() or None


def check_jurisdiction(settings: Settings, jurisdiction_id: str | None) -> None:
    """404 if a jurisdiction_id other than ours is named (we serve one, so it may be left out)."""
    if jurisdiction_id and jurisdiction_id != settings.open311_jurisdiction:
        raise Open311Error(404, f"jurisdiction_id {jurisdiction_id!r} was not found: this endpoint serves "
                                f"{settings.open311_jurisdiction!r}")


def check_api_key(settings: Settings, api_key: str | None) -> None:
    """403 unless api_key is one of the configured Open311 keys."""
    if not api_key:
        raise Open311Error(403, "Missing api_key -- can't proceed with create_request.")
    if not any(secrets.compare_digest(api_key.encode(), key.encode()) for key in settings.api_keys):
        raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request.")


def known_category(taxonomy: Taxonomy, service_code: str) -> Category:
    """The category a service_code names, or 404."""
    if service_code not in taxonomy.categories:
        raise Open311Error(404, f"service_code {service_code!r} was not found; known: {', '.join(taxonomy.categories)}")
    return taxonomy.categories[service_code]


@contextmanager
def transaction(request: Request) -> Iterator[Any]:
    """A session committed when the block ends, rolled back if it raises (so errors never leave half a write)."""
    with sessions_for(request)() as session, session.begin():
        yield session


def parse_w3c(name: str, text: str) -> datetime:
    """A W3C datetime (a time needs its zone; a bare date is midnight China time), or 400."""
    text = re.sub(r" (\d{2}:\d{2})$", r"+\1", text.strip())  # a '+' the query string turned into a space
    match = W3C_DATETIME.match(text)
    if match is None:
        raise Open311Error(400, f"{name} must be a W3C datetime with its time zone, e.g. 2010-01-01T00:00:00Z, "
                                f"not {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone is None:
        tz = CHINA
    elif zone == "Z":
        tz = timezone.utc
    else:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                        int(second or 0), int((fraction or "0")[:6].ljust(6, "0")), tzinfo=tz)
    except ValueError as exc:
        raise Open311Error(400, f"{name} {text!r} is not a valid date: {exc}") from None


def w3c(moment: datetime | None) -> str | None:
    """A stored time in W3C format in China time, e.g. 2026-01-05T14:30:00+08:00."""
    return iso_china(moment)


# --- discovery and services -----------------------------------------------------------------------------------


def changeset(settings: Settings) -> str:
    """When the service definitions last changed: the taxonomy file's modification time."""
    path = settings.taxonomy_file or DEFAULT_FILE
    return w3c(datetime.fromtimestamp(path.stat().st_mtime, CHINA)) or ""


def discovery_json(request: Request, settings: Settings) -> dict[str, Any]:
    """The Service Discovery document: who to contact, how to get a key, the GeoReport v2 endpoint."""
    key_service = "API keys for POST requests are issued by the operator of this geogrid service."
    if settings.demo:
        key_service += f" Demo key: {DEMO_OPEN311_KEY}"
    return {
        "changeset": changeset(settings),
        "contact": f"网格化管理平台 ({settings.open311_jurisdiction}): ask the operator of this geogrid service.",
        "key_service": key_service,
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": str(request.base_url).rstrip("/") + "/open311/v2",
            "changeset": changeset(settings),
            "type": "test" if settings.demo else "production",
            "formats": ["text/xml", "application/json"],
        }],
    }


def service_json(code: str, category: Category, taxonomy: Taxonomy) -> dict[str, Any]:
    """A category as an Open311 service, fields in the order of the spec's example."""
    department = taxonomy.departments[category.department]
    hours = f"{category.deadline_hours[0]:g}"
    return {
        "service_code": code,
        "service_name": category.zh,
        "description": f"{category.zh} ({category.en}): 由网格在{hours}小时内处置, 必要时上报社区、街道, "
                       f"派遣{department.zh} (handled by the grid within {hours} h, escalated to the community "
                       f"and street, dispatched to the {department.en} if needed)",
        "metadata": any(a.variable for a in category.attributes),
        "type": "realtime",
        "keywords": ", ".join([category.zh, category.en, code]),
        "group": department.zh,
    }


def attribute_json(order: int, attribute: Attribute) -> dict[str, Any]:
    """An attribute of a service definition, fields in the order of the spec's example."""
    return {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": attribute.datatype_description,
        "order": order,
        "description": attribute.description,
        "values": [{"key": v.key, "name": v.name} for v in attribute.values],
    }


@router.get("/discovery.{fmt}", summary="Service Discovery (the URL that supersedes the endpoint's)")
@router.get("/v2/discovery.{fmt}", summary="Service Discovery, also beside the endpoint")
def discovery(request: Request, output: Output, settings: SettingsDep) -> Response:
    """The discovery document in XML or JSON (the Service Discovery spec requires both)."""
    return respond(Answer("discovery", discovery_json(request, settings)), output)


@router.get("/v2/services.{fmt}", summary="GET Service List: the incident categories")
def services(output: Output, settings: SettingsDep, taxonomy: TaxonomyDep,
             jurisdiction_id: str | None = None) -> Response:
    """Every category as a realtime service; metadata is true when it has questions to answer."""
    check_jurisdiction(settings, given(jurisdiction_id))
    items = [service_json(code, category, taxonomy) for code, category in taxonomy.categories.items()]
    return respond(Answer("services", items), output)


@router.get("/v2/services/{service_code}.{fmt}", summary="GET Service Definition: a category's attributes")
def service_definition(service_code: str, output: Output, settings: SettingsDep, taxonomy: TaxonomyDep,
                       jurisdiction_id: str | None = None) -> Response:
    """The category's extra questions (none unless the taxonomy defines some); 404 for an unknown code."""
    check_jurisdiction(settings, given(jurisdiction_id))
    category = known_category(taxonomy, service_code)
    attributes = [attribute_json(i, a) for i, a in enumerate(category.attributes, start=1)]
    return respond(Answer("service_definition", {"service_code": service_code, "attributes": attributes}), output)


# --- POST requests --------------------------------------------------------------------------------------------


def attribute_answers(category: Category, form: Form) -> dict[str, Any]:
    """The attribute[code] answers checked against the category's definition (unknown codes are ignored)."""
    sent: dict[str, list[str]] = {}
    for key, value in form.pairs:
        match = ATTRIBUTE_FIELD.match(key)
        if match and value.strip():
            sent.setdefault(match.group(1), []).append(value.strip())
    answers: dict[str, Any] = {}
    for attribute in (a for a in category.attributes if a.variable):
        values = sent.get(attribute.code, [])
        if values:
            answers[attribute.code] = checked_answer(attribute, values)
        elif attribute.required:
            raise Open311Error(400, f"attribute[{attribute.code}] is required: {attribute.description}")
    return answers


def checked_answer(attribute: Attribute, values: list[str]) -> Any:
    """One attribute's answer in its datatype, or 400 saying what is wrong."""
    keys = {str(v.key) for v in attribute.values}
    field = f"attribute[{attribute.code}]"
    if attribute.datatype == "multivaluelist":
        if unknown := [v for v in values if v not in keys]:
            raise Open311Error(400, f"{field}: {', '.join(unknown)} not among {', '.join(sorted(keys))}")
        return list(dict.fromkeys(values))
    if len(values) > 1:
        raise Open311Error(400, f"{field} takes one value, not {len(values)}")
    value = values[0]
    if attribute.datatype == "singlevaluelist" and value not in keys:
        raise Open311Error(400, f"{field}: {value!r} is not among {', '.join(sorted(keys))}")
    if attribute.datatype == "number":
        return checked_number(field, value)
    if attribute.datatype == "datetime":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
        except ValueError:
            raise Open311Error(400, f"{field} must be an ISO 8601 date or datetime, not {value!r}") from None
    return value


def checked_number(field: str, value: str) -> float:
    """A finite number, or 400."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise Open311Error(400, f"{field} must be a number, not {value!r}")
    return number


def checked_length(field: str, value: str | None, limit: int) -> str | None:
    """value if it fits in limit characters, else 400."""
    if value is not None and len(value) > limit:
        raise Open311Error(400, f"{field} is limited to {limit} characters, not {len(value)}")
    return value


def point_of(form: Form) -> tuple[float, float] | None:
    """(long, lat) if both are sent, None if neither, else 400."""
    lat, lon = form.get("lat"), form.get("long")
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise Open311Error(400, "lat and long must both be sent")
    lat_value, lon_value = checked_number("lat", lat), checked_number("long", lon)
    if not (-90 <= lat_value <= 90 and -180 <= lon_value <= 180):
        raise Open311Error(400, f"lat {lat} and long {lon} are not WGS-84 degrees (lat -90..90, long -180..180): "
                                "are they swapped?")
    return lon_value, lat_value


def building_point(session: Any, address_id: str) -> tuple[float, float, str | None]:
    """A point inside the building an address_id names, and its address; 400 if there is none."""
    found = store.building_point(session, address_id)
    if found is None:
        raise Open311Error(400, f"address_id {address_id!r} was not found")
    return found


def contact_of(form: Form) -> tuple[str | None, str | None]:
    """The reporter's name and contact (email, phone), kept for staff and never shown by this API."""
    name = " ".join(v for v in (form.get("first_name"), form.get("last_name")) if v) or None
    contact = ", ".join(v for v in (form.get("email"), form.get("phone")) if v) or None
    return checked_length("first_name and last_name", name, MAX_LENGTHS["name"]), \
        checked_length("email and phone", contact, MAX_LENGTHS["contact"])


def media_of(form: Form) -> list[str]:
    """media_url as the report's media list, if it is an http(s) URL."""
    url = checked_length("media_url", form.get("media_url"), MAX_LENGTHS["media_url"])
    if url is None:
        return []
    if not url.lower().startswith(("http://", "https://")):
        raise Open311Error(400, f"media_url must be an http or https URL, not {url!r}")
    return [url]


def report_of(session: Any, form: Form, service_code: str, answers: dict[str, Any]) -> tuple[store.Report, str | None]:
    """The form as the store's Report (a WGS-84 point, else address text), and the address_id it named."""
    point, address_id = point_of(form), form.get("address_id")
    address = checked_length("address_string", form.get("address_string"), MAX_LENGTHS["address_string"])
    if point is None and address_id is None and address is None:
        raise Open311Error(400, "a location must be submitted: lat and long, address_string or address_id")
    if address_id is not None:
        lon, lat, building_address = building_point(session, address_id)
        point, address = point or (lon, lat), address or building_address
    name, contact = contact_of(form)
    client = {k: form.get(k) for k in ("device_id", "account_id") if form.get(k)}
    report = store.Report(
        category=service_code,
        channel=CHANNEL,
        description=checked_length("description", form.get("description"), MAX_LENGTHS["description"]) or "",
        x=point[0] if point else None,
        y=point[1] if point else None,
        crs="wgs84" if point else None,
        address=address,
        reporter_name=name,
        reporter_contact=contact,
        media_urls=media_of(form),
        attributes={"open311": {"attributes": answers} | client},
    )
    return report, address_id


@router.post("/v2/requests.{fmt}", summary="POST Service Request: report an incident (needs an api_key)")
def create_request(request: Request, output: Output, form: FormFields, settings: SettingsDep,
                   taxonomy: TaxonomyDep) -> Response:
    """Store the report at once and answer its service_request_id (the services are realtime)."""
    check_api_key(settings, form.get("api_key") or given(request.query_params.get("api_key")))
    check_jurisdiction(settings, form.get("jurisdiction_id") or given(request.query_params.get("jurisdiction_id")))
    service_code = form.get("service_code")
    if service_code is None:
        raise Open311Error(400, "service_code was not provided")
    answers = attribute_answers(known_category(taxonomy, service_code), form)
    with transaction(request) as session:
        report, address_id = report_of(session, form, service_code, answers)
        incident, _ = store.create_incident(session, report, USERNAME, taxonomy, StoreGeocoder(request, session))
        if address_id is not None:
            incident.matched_building_id = address_id
        created = {
            "service_request_id": incident.id,
            "service_notice": open311.service_notice(incident, taxonomy),
            "account_id": form.get("account_id"),
        }
    return respond(Answer("service_requests", [created]), output)


# --- reading requests ------------------------------------------------------------------------------------------


def request_json(incident: Incident, taxonomy: Taxonomy, names: Names) -> dict[str, Any]:
    """An incident as an Open311 service request, fields in the order of the spec's example; no reporter data;
    text a spreadsheet would run as a formula is quoted (geogrid.geo.io.safe_cell)."""
    category = taxonomy.categories.get(incident.category)
    status = open311.status_of(incident)
    closed = status == "closed"
    shown = open311.public_point(incident.lat, incident.lon, taxonomy.public_precision_m)  # its block, not its door
    return {key: safe_cell(value) for key, value in {
        "service_request_id": incident.id,
        "status": status,
        "status_notes": open311.status_notes(incident, taxonomy, names),
        "service_name": category.zh if category else incident.category,
        "service_code": str(incident.category),
        "description": incident.description or None,
        "agency_responsible": open311.agency_responsible(incident, taxonomy, names),
        "service_notice": open311.service_notice(incident, taxonomy),
        "requested_datetime": w3c(incident.reported_at),
        "updated_datetime": w3c(incident.closed_at if closed and incident.closed_at else incident.updated_at),
        "expected_datetime": w3c(incident.deadline_at),
        "address": incident.address,
        "address_id": incident.matched_building_id,
        "zipcode": None,
        "lat": shown[0],
        "long": shown[1],
        "media_url": incident.media_urls[0] if incident.media_urls else None,
    }.items()}


def requests_answer(session: Any, incidents: Sequence[Incident], taxonomy: Taxonomy) -> Answer:
    """Incidents as the spec's service_requests list."""
    names = store.names_for(session, incidents)
    return Answer("service_requests", [request_json(i, taxonomy, names) for i in incidents])


def comma_list(value: str | None) -> list[str]:
    """The values of a comma-delimited argument."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def request_ids(value: str) -> list[int]:
    """The ids of a service_request_id list, or 400."""
    ids = comma_list(value)
    if bad := [v for v in ids if parse_id(v) is None]:
        raise Open311Error(400, f"service_request_id takes comma-separated ids, not {', '.join(bad)[:200]}")
    return [int(v) for v in ids]


def date_window(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The requested_datetime range: the last 90 days by default, 90 days from or to one given date, at most 90."""
    if start is not None and end is not None:
        if end < start:
            raise Open311Error(400, "end_date is before start_date")
        if end - start > WINDOW:
            raise Open311Error(400, "start_date and end_date may not span more than 90 days")
        return start, end
    if start is not None:
        return start, start + WINDOW
    if end is not None:
        return end - WINDOW, end
    return now - WINDOW, now


def requests_filters(service_request_id: str | None, service_code: str | None, start_date: str | None,
                     end_date: str | None, status: str | None, taxonomy: Taxonomy) -> store.Filters:
    """The spec's arguments as the store's filters, within what the taxonomy makes public (categories and
    channels); service_request_id overrides all the others."""
    public = {"shown_categories": taxonomy.public_categories(), "shown_channels": taxonomy.public_channels()}
    if service_request_id:
        return store.Filters(ids=request_ids(service_request_id), **public)
    start = parse_w3c("start_date", start_date) if start_date else None
    end = parse_w3c("end_date", end_date) if end_date else None
    since, until = date_window(start, end, utcnow())
    return store.Filters(status=open311.states_of(comma_list(status)), category=comma_list(service_code), since=since,
                         until=until + timedelta(microseconds=1), **public)  # end_date is included


@router.get("/v2/requests.{fmt}", summary="GET Service Requests: incidents by id, service, date and status")
def list_requests(
    request: Request,
    output: Output,
    settings: SettingsDep,
    taxonomy: TaxonomyDep,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = Query(None, description="Comma-separated ids; overrides every other argument"),
    service_code: str | None = Query(None, description="Comma-separated service codes"),
    start_date: str | None = Query(None, description="W3C datetime, e.g. 2026-01-01T00:00:00+08:00"),
    end_date: str | None = Query(None, description="W3C datetime; at most 90 days after start_date"),
    status_: str | None = Query(None, alias="status", description="open, closed or open,closed"),
) -> Response:
    """Newest first, the first 1000 within the window (default: the last 90 days); only the categories and channels
    the taxonomy makes public, their points rounded to about public_precision_m (50 m)."""
    check_jurisdiction(settings, given(jurisdiction_id))
    filters = requests_filters(given(service_request_id), given(service_code), given(start_date), given(end_date),
                               given(status_), taxonomy)
    with transaction(request) as session:
        answer = requests_answer(session, store.newest(session, filters, MAX_REQUESTS), taxonomy)
    return respond(answer, output)


@router.get("/v2/requests/{service_request_id}.{fmt}", summary="GET Service Request: one incident")
def one_request(request: Request, service_request_id: str, output: Output, settings: SettingsDep,
                taxonomy: TaxonomyDep, jurisdiction_id: str | None = None) -> Response:
    """The incident as a one-item service_requests list; 404 if there is none."""
    check_jurisdiction(settings, given(jurisdiction_id))
    with transaction(request) as session:
        known = parse_id(service_request_id)
        incident = store.find_incident(session, known) if known is not None else None
        if incident is None or not taxonomy.is_public(incident.category, incident.channel):  # staff-only: unseen
            raise Open311Error(404, f"service_request_id {service_request_id!r} was not found")
        answer = requests_answer(session, [incident], taxonomy)
    return respond(answer, output)


@router.get("/v2/tokens/{token}.{fmt}", summary="GET service_request_id from a token")
def from_token(request: Request, token: str, output: Output, settings: SettingsDep,
               jurisdiction_id: str | None = None) -> Response:
    """The service_request_id of the incident a token names; 404 if none does."""
    check_jurisdiction(settings, given(jurisdiction_id))
    with transaction(request) as session:
        incident_id = store.incident_id_of_token(session, token)
    if incident_id is None:
        raise Open311Error(404, f"token {token!r} was not found")
    return respond(Answer("service_requests", [{"service_request_id": incident_id, "token": token}]), output)


ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@router.api_route("/{path:path}", methods=ALL_METHODS, include_in_schema=False)
def unknown(request: Request, path: str) -> Response:
    """Anything else under /open311: 404 in the spec's format (400 for a known URL with the wrong method)."""
    if any(route.matches(request.scope)[0] == Match.PARTIAL for route in router.routes):
        raise Open311Error(400, f"{request.method} is not supported at /open311/{path}")
    raise Open311Error(404, f"there is no Open311 resource at /open311/{path}")

