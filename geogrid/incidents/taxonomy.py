"""The incident taxonomy: categories, channels, departments and each category's deadlines per level."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

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
    """One choice of a list attribute: its key and its name."""

    key: str | int
    name: str


class Attribute(BaseModel):
    """An extra question a report of the category answers (an Open311 service attribute)."""

    code: str = Field(min_length=1)
    description: str
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
            raise InputError(f"unknown category {code!r}; known: {', '.join(self.categories)}")
        return self.categories[code]

    def check_channel(self, code: str) -> str:
        """code if it is a known channel, else InputError."""
        if code not in self.channels:
            raise InputError(f"unknown channel {code!r}; known: {', '.join(self.channels)}")
        return code

    def check_department(self, code: str) -> str:
        """code if it is a known department, else InputError."""
        if code not in self.departments:
            raise InputError(f"unknown department {code!r}; known: {', '.join(self.departments)}")
        return code


def read_taxonomy(path: Path) -> Taxonomy:
    """The taxonomy in a TOML file, or InputError naming what is wrong with it."""
    try:
        return Taxonomy.model_validate(tomllib.loads(Path(path).read_text(encoding="utf-8")))
    except OSError as exc:
        raise InputError(f"cannot read the taxonomy file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"the taxonomy file {path} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InputError(f"the taxonomy file {path} is wrong: {details}") from None


@lru_cache
def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """The taxonomy at path (default: the one shipped with geogrid), read once."""
    return read_taxonomy(path or DEFAULT_FILE)
