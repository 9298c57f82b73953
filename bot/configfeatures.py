"""Config sections of the field, dashboard and web-form features (``[field]``, ``[dashboard]``,
``[web_report]``). Their names are a contract, like the rest of ``bot.config``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.configvalues import distinct_sorted


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldConfig(_Section):
    """Finding the person: arrival times, "still there?", not-found follow-up, revisits,
    hotspots."""

    # The claimer's choices for "how long until you get there?", in minutes.
    eta_choices: Annotated[
        list[Annotated[int, Field(ge=1, le=720)]], Field(min_length=1, max_length=8)
    ] = [10, 20, 30, 60]
    # At ETA + this with no "on scene", the claimer is asked; after another grace, released.
    eta_grace_minutes: Annotated[int, Field(ge=1, le=240)] = 10
    # When a tip is claimed, ask the reporter (anonymously) whether the person is still there.
    ask_still_there: bool = True
    # A reporter's new pin or words within this many hours of "not found" reopen the tip.
    reopen_hours: Annotated[int, Field(ge=0, le=72)] = 2
    # When to revisit a person who refused help or had gone: "cold_mode" (when cold mode
    # next starts) or a number of hours.
    revisit_after: Literal["cold_mode"] | Annotated[int, Field(ge=1, le=720)] = "cold_mode"
    # Reminders and /hotspots list where people were found in this many days (0 = off).
    hotspot_days: Annotated[int, Field(ge=0, le=365)] = 14

    @field_validator("eta_choices")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        return distinct_sorted(value, "each choice may appear once → remove the repeated minutes")


class DashboardConfig(_Section):
    """The officers' live map and numbers at ``{public_url}/dashboard``."""

    # How long a sign-in lasts.
    session_hours: Annotated[int, Field(ge=1, le=168)] = 12
    # Group leaders may sign in for a read-only view of their own group's tips.
    leaders: bool = True
    # A map tile URL template ("https://tile.example.org/{z}/{x}/{y}.png"); "" = no tiles
    # (a plain background with the service area, districts and landmarks).
    tiles: str = ""


class WebReportConfig(_Section):
    """The public web report form at ``{public_url}/report``."""

    enabled: bool = True
    # Submissions allowed per client address per hour, and in total per hour.
    per_ip_per_hour: Annotated[int, Field(ge=1, le=1000)] = 5
    per_hour: Annotated[int, Field(ge=1, le=100_000)] = 200
