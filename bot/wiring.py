"""The services of one running bot, each given the few collaborators it uses (the
composition root's half that builds them; bot/app.py calls :func:`build_services`)."""

from __future__ import annotations

from bot.db.field import FieldStore
from bot.geo.geocoder import Geocoder
from bot.jobs.outbox import OutboxSender
from bot.jobs.revisit_cards import RevisitCards
from bot.services.amend import AmendService
from bot.services.answers import OfficerAnswers
from bot.services.arrival import ArrivalService
from bot.services.awards import AwardService
from bot.services.backups import BackupService
from bot.services.campaign import CampaignFigures
from bot.services.cards import CardService
from bot.services.chats import ChatService
from bot.services.dashboard import DashboardService
from bot.services.escalation import Escalator
from bot.services.field import FieldService
from bot.services.followup import FollowUp
from bot.services.handover import Handover
from bot.services.hotspots import HotspotService
from bot.services.live import LiveService
from bot.services.patrols import PatrolService
from bot.services.people import Naming
from bot.services.registry import Services
from bot.services.relay import RelayService
from bot.services.reports import ReportService
from bot.services.revisits import RevisitService
from bot.services.rewards import RewardService
from bot.services.schedules import ForecastFetcher, ScheduleService
from bot.services.summary import Summary
from bot.services.tips import Tips
from bot.services.users import UserService
from bot.services.webreport import WebReportService
from bot.station import Station, service_area
from bot.views.charts import campaign_chart


def build_services(
    station: Station,
    bot: object,
    *,
    geocoder: Geocoder,
    fetch_forecast: ForecastFetcher | None,
) -> tuple[Services, OutboxSender]:
    """Every service, each given the few collaborators it uses; and the outbox sender."""
    config, db, repo, clock, reach, roster = (
        station.config,
        station.db,
        station.repo,
        station.clock,
        station.reach,
        station.roster,
    )
    language = config.station.language
    notifier = station.notifier
    naming = Naming(repo.people, reach)
    audit = station.audit
    tips = Tips(repo.tips, repo.events, notifier)
    users = UserService(db, repo.people, reach, notifier, clock, language)
    amend = AmendService(
        db,
        repo.tips,
        tips,
        repo.amendments,
        repo.media,
        repo.messages,
        notifier,
        reach,
        clock,
        config.reporting,
    )
    # Issue 13 (h13c): live locations, revisits, hotspots.
    live = LiveService(db, repo.live, repo.tips, repo.messages, notifier, naming, reach, clock)
    revisits = RevisitService(
        db, repo.revisits, repo.tips, repo.events, repo.outbox, reach, roster, clock, config.field
    )
    hotspots = HotspotService(repo.hotspots, reach, clock, config.field.hotspot_days, language)
    cards = CardService(
        repo.tips,
        repo.events,
        repo.media,
        repo.people,
        naming,
        reach,
        config.reporting,
        amendments=repo.amendments,
        live=live,
    )
    cards_of_revisits = (db, repo.revisits, repo.tips, naming, reach, clock, language)
    revisit_cards = RevisitCards(bot, *cards_of_revisits)  # type: ignore[arg-type]
    sender = OutboxSender(
        bot,  # type: ignore[arg-type]
        db,
        repo.outbox,
        repo.tips,
        repo.messages,
        repo.media,
        notifier,
        reach,
        users,
        cards,
        clock,
        station_language=language,
        digest_threshold=config.reporting.digest_threshold,
        revisit_cards=revisit_cards,
    )
    awards = AwardService(
        db,
        repo.tips,
        repo.rewards,
        repo.ledger,
        repo.events,
        notifier,
        reach,
        clock,
        config.reward,
        config.campaign,
    )
    rewards_ = RewardService(
        db,
        repo.rewards,
        repo.ledger,
        repo.tips,
        repo.media,
        repo.people,
        repo.events,
        notifier,
        naming,
        audit,
        reach,
        clock,
        config.reward,
        config.campaign,
        config.station.hotline,
    )
    # Issue 13: the claimer's arrival time, the reporter's "still there?" and "not found".
    field_store = FieldStore(db)
    followup = FollowUp(
        db, repo.tips, field_store, repo.drafts, repo.events, tips, notifier, reach, roster,
        clock, config.field, service_area(config),
        lambda lat, lon: geocoder.district(lat, lon, config.station.language),
        audit,
        repo.media,
    )
    cards.field_facts = followup.facts
    arrival = ArrivalService(
        db, repo.tips, tips, notifier, naming, audit, reach, clock, config.field
    )
    field = FieldService(
        db,
        tips,
        repo.tips,
        repo.messages,
        repo.media,
        repo.outbox,
        notifier,
        awards,
        audit,
        reach,
        clock,
        followup=followup,
        on_close=(revisits.on_tip_closed,),
    )
    reports = ReportService(
        db,
        repo.drafts,
        repo.tips,
        tips,
        repo.media,
        repo.people,
        notifier,
        awards,
        audit,
        reach,
        roster,
        clock,
        geocoder,
        service_area(config),
        config.station,
        config.reporting,
        config.reward.amount,
        deliver_now=sender.deliver_now,
        amender=amend,
    )
    relay = RelayService(
        db,
        repo.tips,
        tips,
        repo.questions,
        repo.messages,
        repo.drafts,
        repo.people,
        repo.events,
        notifier,
        naming,
        field,
        audit,
        clock,
    )
    campaign = CampaignFigures(  # issue 14: /stats, the summary chart, the dashboard
        repo.campaign, tz=clock.tz, campaign_start=config.campaign.start,
        campaign_end=config.campaign.end, reminder_times=config.patrol.reminder_times,
        clock=clock.now,
    )  # fmt: skip
    patrols = PatrolService(
        db, repo.patrols, repo.schedule, notifier, audit, reach, roster, clock, config.patrol
    )
    schedules = ScheduleService(
        db,
        repo.tips,
        repo.schedule,
        repo.patrols,
        patrols,
        Escalator(
            db, repo.tips, repo.events, tips, notifier, naming, reach, clock, config.escalation
        ),
        Handover(db, repo.tips, tips, repo.schedule, notifier, reach, roster),
        Summary(
            db,
            repo.stats,
            repo.patrols,
            repo.ledger,
            repo.rewards,
            repo.schedule,
            notifier,
            reach,
            clock,
            config.summary,
            config.campaign,
            config.patrol,
            more=(revisits.summary_text,),
            chart=lambda: campaign_chart(campaign, language),
        ),
        BackupService(db, repo.schedule, notifier, config.backup),
        notifier,
        naming,
        audit,
        reach,
        roster,
        clock,
        config.patrol,
        config.campaign,
        config.weather,
        fetch_forecast,
        arrival=arrival,
        more_steps=(revisits.run, live.run),
        reminder_lines=(revisits.reminder_lines, hotspots.reminder_lines),
    )
    services = Services(
        config=config,
        clock=clock,
        audit=audit,
        users=users,
        naming=naming,
        reports=reports,
        field=field,
        cards=cards,
        awards=awards,
        rewards=rewards_,
        answers=OfficerAnswers(db, repo.inputs, rewards_, reach, clock),
        patrols=patrols,
        schedules=schedules,
        chats=ChatService(db, reach, notifier, audit, clock),
        relay=relay,
        arrival=arrival,
        followup=followup,
        amend=amend,
        live=live,
        revisits=revisits,
        hotspots=hotspots,
        campaign=campaign,
        dashboard=DashboardService(  # issue 14
            db, repo.dashboard, repo.tips, repo.media, repo.events, cards, field,
            Escalator(db, repo.tips, repo.events, tips, notifier, naming, reach, clock,
                      config.escalation),
            audit, reach, clock, config.dashboard, config.web.public_url,
        ),
        web_report=WebReportService(
            db,
            repo.web,
            repo.tips,
            repo.people,
            repo.rewards,
            repo.questions,
            repo.ops,
            reports,
            relay,
            amend,
            followup,
            clock,
            config.reporting,
        ),
    )
    return services, sender
