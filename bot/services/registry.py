"""What handlers and jobs are given: the services the composition root (bot/app.py) built,
the configuration (read-only) and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.services.answers import OfficerAnswers
from bot.services.audit import Audit
from bot.services.awards import AwardService
from bot.services.cards import CardService
from bot.services.chats import ChatService
from bot.services.clock import StationClock
from bot.services.field import FieldService
from bot.services.patrols import PatrolService
from bot.services.people import Naming
from bot.services.relay import RelayService
from bot.services.reports import ReportService
from bot.services.rewards import RewardService
from bot.services.schedules import ScheduleService
from bot.services.users import UserService
from bot.services.webreport import WebReportService


@dataclass(frozen=True)
class Services:
    config: Config
    clock: StationClock
    audit: Audit
    users: UserService
    naming: Naming
    reports: ReportService
    field: FieldService
    cards: CardService
    awards: AwardService
    rewards: RewardService
    answers: OfficerAnswers  # the officer's typed answers
    patrols: PatrolService
    schedules: ScheduleService
    chats: ChatService
    relay: RelayService
    web_report: WebReportService | None = None  # the public web form (issue 15)
