"""Every store of warmline, one per aggregate: all SQL lives in these modules.

``Repo.on(db)`` builds them on one database; a service is given only the stores it uses
(see bot/app.py), reached as ``repo.tips.get(…)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.amendments import AmendmentStore
from bot.db.campaign_stats import CampaignStatsStore
from bot.db.chats import ChatStore
from bot.db.dashboard import DashboardStore
from bot.db.database import Database
from bot.db.drafts import DraftStore
from bot.db.events import EventStore
from bot.db.exports import ExportStore
from bot.db.hotspots import HotspotStore
from bot.db.journal import JournalStore
from bot.db.live import LiveStore
from bot.db.maintenance import MaintenanceStore
from bot.db.messages import MediaStore, MessageStore
from bot.db.ops import OpsStore
from bot.db.outbox import OutboxStore
from bot.db.people import InputStore, PeopleStore
from bot.db.questions import QuestionStore
from bot.db.revisits import RevisitStore
from bot.db.rewards import LedgerStore, RewardStore
from bot.db.schedule import PatrolStore, ScheduleStore
from bot.db.stats import StatsStore
from bot.db.tips import TipStore
from bot.db.webreports import WebReportStore


@dataclass(frozen=True)
class Repo:
    db: Database
    tips: TipStore
    drafts: DraftStore
    events: EventStore
    messages: MessageStore
    media: MediaStore
    outbox: OutboxStore
    questions: QuestionStore
    rewards: RewardStore
    ledger: LedgerStore
    people: PeopleStore
    inputs: InputStore
    chats: ChatStore
    schedule: ScheduleStore
    patrols: PatrolStore
    stats: StatsStore
    campaign: CampaignStatsStore  # the campaign's figures (chart, /stats, dashboard)
    exports: ExportStore  # tips and events for a city office
    ops: OpsStore  # the bot's own operation state and health probes
    maintenance: MaintenanceStore
    journal: JournalStore
    amendments: AmendmentStore  # what reporters added to their tips after submitting
    # Issue 13 (h13c): live positions (staff-only data), revisits, where people were found.
    live: LiveStore
    revisits: RevisitStore
    hotspots: HotspotStore
    dashboard: DashboardStore  # the dashboard's sign-in links and sessions (issue 14)
    web: WebReportStore  # the public web report form (issue 15)

    @classmethod
    def on(cls, db: Database) -> Repo:
        return cls(
            db=db,
            tips=TipStore(db),
            drafts=DraftStore(db),
            events=EventStore(db),
            messages=MessageStore(db),
            media=MediaStore(db),
            outbox=OutboxStore(db),
            questions=QuestionStore(db),
            rewards=RewardStore(db),
            ledger=LedgerStore(db),
            people=PeopleStore(db),
            inputs=InputStore(db),
            chats=ChatStore(db),
            schedule=ScheduleStore(db),
            patrols=PatrolStore(db),
            stats=StatsStore(db),
            campaign=CampaignStatsStore(db),
            exports=ExportStore(db),
            ops=OpsStore(db),
            maintenance=MaintenanceStore(db),
            journal=JournalStore(db),
            amendments=AmendmentStore(db),
            live=LiveStore(db),
            revisits=RevisitStore(db),
            hotspots=HotspotStore(db),
            dashboard=DashboardStore(db),
            web=WebReportStore(db),
        )
