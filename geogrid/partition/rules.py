"""The published grid rules, as parameters of a partition."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class Rules(BaseModel):
    """Limits a second-level grid must meet.

    Towns (urban communities): every grid holds ``min_households`` to
    ``max_households`` households and at most ``max_population`` residents.
    Villages (rural communities): grids are unions of whole villager groups of
    about ``rural_target_population`` people, within ``rural_tolerance``.
    """

    min_households: int = Field(300, ge=1)
    max_households: int = Field(500, ge=1)
    max_population: int = Field(1000, ge=1)
    rural_target_population: int = Field(500, ge=1)
    rural_tolerance: float = Field(0.3, ge=0, lt=1)

    @model_validator(mode="after")
    def _window_is_ordered(self) -> "Rules":
        if self.min_households > self.max_households:
            raise ValueError(
                f"min_households ({self.min_households}) is above max_households ({self.max_households})"
            )
        return self

    @property
    def rural_min_population(self) -> int:
        return round(self.rural_target_population * (1 - self.rural_tolerance))

    @property
    def rural_max_population(self) -> int:
        return round(self.rural_target_population * (1 + self.rural_tolerance))
