"""The incident taxonomy: categories, channels, departments and each category's deadlines per level."""

from __future__ import annotations

import math
import tomllib
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, model_validator

from geogrid.errors import InputError

DEFAULT_FILE = Path(__file__).resolve().parent / "taxonomy.toml"
LEVELS = (1, 2, 3)  # grid, community, street (with its district department)
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")


class Label(BaseModel):
    """A name in Simplified Chinese and English."""

    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        """The name in lang (zh unless en is asked for)."""
        return self.en if lang == "en" else self.zh


class AttributeValue(BaseModel):
    """One choice of a list attribute: its key and its name (name_en in English, when given)."""

    key: str | int
    name: str
    name_en: str | None = None


class Attribute(BaseModel):
    """An extra question a report of the category answers (an Open311 service attribute)."""

    code: str = Field(min_length=1)
    description: str
    description_en: str | None = None  # the question in English, for pages shown in English
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"] = "string"
    required: bool = False
    variable: bool = True  # false: shown to the reporter only, never answered
    datatype_description: str | None = None
    values: list[AttributeValue] = Field(default_factory=list)

    @model_validator(mode="after")
    def _lists_have_values(self) -> Attribute:
        if self.datatype in LIST_DATATYPES and not self.values:
            raise ValueError(f"attribute {self.code!r} is a {self.datatype} without values")
        return self


class Category(Label):
    """An incident category: its department, its deadline (hours) at levels 1, 2 and 3, its extra questions."""

    department: str
    deadline_hours: list[float] = Field(min_length=3, max_length=3)
    attributes: list[Attribute] = Field(default_factory=list)  # in the order they are asked
    public: bool = False  # its cases are listed by the public Open311 API (citizen-facing); else staff only

    def deadline(self, level: int, start: datetime) -> datetime:
        """When a case of this category that reached level at start becomes overdue."""
        return start + timedelta(hours=self.deadline_hours[level - 1])


class Channel(Label):
    """A channel reports come through; public: its cases may be listed publicly (a citizen's, not a patrol's)."""

    public: bool = False


class Taxonomy(BaseModel):
    """Every category, channel and department a report may name, and what of them the public may see."""

    categories: dict[str, Category]
    channels: dict[str, Channel]
    departments: dict[str, Label]
    public_precision_m: float = Field(50.0, ge=0, description="public points are rounded to about this many metres")

    def public_categories(self) -> list[str]:
        """The categories whose cases the public Open311 API lists."""
        return [code for code, category in self.categories.items() if category.public]

    def public_channels(self) -> list[str]:
        """The channels whose cases the public Open311 API lists."""
        return [code for code, channel in self.channels.items() if channel.public]

    def is_public(self, category: str, channel: str) -> bool:
        """Whether a case of this category, reported through this channel, may be shown to the public."""
        found, through = self.categories.get(category), self.channels.get(channel)
        return found is not None and found.public and through is not None and through.public

    @model_validator(mode="after")
    def _departments_known(self) -> Taxonomy:
        unknown = {c.department for c in self.categories.values()} - set(self.departments)
        if unknown:
            raise ValueError(f"categories name unknown departments: {', '.join(sorted(unknown))}")
        return self

    def category(self, code: str) -> Category:
        """The category called code, or InputError listing the known ones."""
        if code not in self.categories:
            raise InputError(f"unknown category {code!r}; known: {', '.join(self.categories)}",
                             code="report.unknown_category", params={"category": code})
        return self.categories[code]

    def check_channel(self, code: str) -> str:
        """code if it is a known channel, else InputError."""
        if code not in self.channels:
            raise InputError(f"unknown channel {code!r}; known: {', '.join(self.channels)}",
                             code="report.unknown_channel", params={"channel": code})
        return code

    def check_department(self, code: str) -> str:
        """code if it is a known department, else InputError."""
        if code not in self.departments:
            raise InputError(f"unknown department {code!r}; known: {', '.join(self.departments)}")
        return code


def check_answers(category: Category, sent: dict[str, list[str]], label: str = "attribute[{}]") -> dict[str, Any]:
    """The answers sent (code -> its values as text) to the category's questions, each in its datatype; InputError
    naming the field (label.format(code)) for a required question left unanswered or a value of the wrong kind.
    Codes the category does not ask are ignored; the one home of these checks (JSON API, Open311, the pages)."""
    answers: dict[str, Any] = {}
    for attribute in (a for a in category.attributes if a.variable):
        values = [v.strip() for v in sent.get(attribute.code, []) if v.strip()]
        if values:
            answers[attribute.code] = checked_answer(attribute, values, label.format(attribute.code))
        elif attribute.required:
            raise InputError(f"{label.format(attribute.code)} is required: {attribute.description}",
                             code="report.answer_required", params={"question": attribute.description})
    return answers


def checked_answer(attribute: Attribute, values: list[str], field: str) -> Any:
    """One question's answer in its datatype, or InputError saying what is wrong."""
    keys = {str(v.key) for v in attribute.values}
    if attribute.datatype == "multivaluelist":
        if unknown := [v for v in values if v not in keys]:
            raise InputError(f"{field}: {', '.join(unknown)} not among {', '.join(sorted(keys))}",
                             code="report.answer_not_offered", params={"question": attribute.description})
        return list(dict.fromkeys(values))
    if len(values) > 1:
        raise InputError(f"{field} takes one value, not {len(values)}", code="report.answer_one_value",
                         params={"question": attribute.description})
    value = values[0]
    if attribute.datatype == "singlevaluelist" and value not in keys:
        raise InputError(f"{field}: {value!r} is not among {', '.join(sorted(keys))}",
                         code="report.answer_not_offered", params={"question": attribute.description})
    if attribute.datatype == "number":
        return checked_number(field, value)
    if attribute.datatype == "datetime":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
        except ValueError:
            raise InputError(f"{field} must be an ISO 8601 date or datetime, not {value!r}", code="report.answer_date",
                             params={"question": attribute.description}) from None
    return value


def checked_number(field: str, value: str) -> float:
    """A finite number, or InputError."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InputError(f"{field} must be a number, not {value!r}", code="report.not_a_number", params={"value": value})
    return number


def as_sent(answers: dict[str, Any]) -> dict[str, list[str]]:
    """JSON answers (a value or a list of values per code) as text values per code, as check_answers takes them."""
    return {str(code): [str(v) for v in (value if isinstance(value, list) else [value]) if v is not None]
            for code, value in answers.items()}


Model = TypeVar("Model", bound=BaseModel)


def read_toml_model(model: type[Model], path: Path, what: str) -> Model:
    """A district's own settings file (TOML) read into model, or InputError naming the file and what is wrong."""
    try:
        return model.model_validate(tomllib.loads(Path(path).read_text(encoding="utf-8")))
    except OSError as exc:
        raise InputError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"the {what} file {path} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InputError(f"the {what} file {path} is wrong: {details}") from None


def read_taxonomy(path: Path) -> Taxonomy:
    """The taxonomy in a TOML file, or InputError naming what is wrong with it."""
    return read_toml_model(Taxonomy, path, "taxonomy")


@lru_cache
def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """The taxonomy at path (default: the one shipped with geogrid), read once."""
    return read_taxonomy(path or DEFAULT_FILE)
