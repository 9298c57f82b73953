"""The set of services the composition root builds and hands to handlers and jobs."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.base import Deps
from bot.services.cards import CardService
from bot.services.chats import ChatService
from bot.services.field import FieldService
from bot.services.patrols import PatrolService
from bot.services.relay import RelayService
from bot.services.reports import ReportService
from bot.services.rewards import RewardService
from bot.services.schedules import ScheduleService
from bot.services.users import UserService


@dataclass
class Services:
    deps: Deps
    users: UserService
    reports: ReportService
    field: FieldService
    cards: CardService
    rewards: RewardService
    patrols: PatrolService
    schedules: ScheduleService
    chats: ChatService
    relay: RelayService
