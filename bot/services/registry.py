"""What handlers and jobs are given: the services the composition root (bot/app.py) built,
the configuration (read-only) and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.services.amend import AmendService
from bot.services.answers import OfficerAnswers
from bot.services.arrival import ArrivalService
from bot.services.audit import Audit
from bot.services.awards import AwardService
from bot.services.campaign import CampaignFigures
from bot.services.cards import CardService
from bot.services.chats import ChatService
from bot.services.clock import StationClock
from bot.services.dashboard import DashboardService
from bot.services.field import FieldService
from bot.services.followup import FollowUp
from bot.services.hotspots import HotspotService
from bot.services.live import LiveService
from bot.services.patrols import PatrolService
from bot.services.people import Naming
from bot.services.relay import RelayService
from bot.services.reports import ReportService
from bot.services.revisits import RevisitService
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
    arrival: ArrivalService  # the claimer's arrival time (issue 13)
    followup: FollowUp  # the reporter's "still there?" and "not found" follow-ups (issue 13)
    amend: AmendService  # additions to a submitted tip (the reporter's chat, the web form)
    # Issue 13 (h13c): live locations, revisits, hotspots.
    live: LiveService
    revisits: RevisitService
    hotspots: HotspotService
    campaign: CampaignFigures  # the campaign's figures: /stats, the chart, the dashboard
    dashboard: DashboardService  # the dashboard's sign-in and views (issue 14)
    web_report: WebReportService | None = None  # the public web form (issue 15)
