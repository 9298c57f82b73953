"""The catalog key of each value of an enum, written out: no key is ever built from a value,
so a test can see every key the code uses (tests/test_i18n.py checks each table is complete).
"""

from __future__ import annotations

from bot.domain.arrival import Presence
from bot.domain.campaign import Leg
from bot.domain.dashboard import MarkerState
from bot.domain.draft import Source, Step
from bot.domain.events import Act
from bot.domain.outage import Cause
from bot.domain.revisits import RevisitOutcome
from bot.domain.rewards import Ineligible, PayMethod, RewardState
from bot.domain.spots import Spot
from bot.domain.tips import Action, Flag, Outcome, People, Role, Seen, State, Supply
from bot.domain.webreport import Problem

STATE = {
    State.NEW: "state.new",
    State.DISPATCHED: "state.dispatched",
    State.CLAIMED: "state.claimed",
    State.EN_ROUTE: "state.en_route",
    State.ON_SCENE: "state.on_scene",
    State.CLOSED: "state.closed",
    State.WITHDRAWN: "state.withdrawn",
}

#: The state as the reporter reads it.
REPORTER_STATE = {
    State.NEW: "reporter_state.new",
    State.DISPATCHED: "reporter_state.dispatched",
    State.CLAIMED: "reporter_state.claimed",
    State.EN_ROUTE: "reporter_state.en_route",
    State.ON_SCENE: "reporter_state.on_scene",
    State.CLOSED: "reporter_state.closed",
    State.WITHDRAWN: "reporter_state.withdrawn",
}

OUTCOME = {
    Outcome.BROUGHT_IN: "outcome.brought_in",
    Outcome.HOSPITAL: "outcome.hospital",
    Outcome.SUPPLIES_ONLY: "outcome.supplies_only",
    Outcome.FAMILY: "outcome.family",
    Outcome.NOT_FOUND: "outcome.not_found",
    Outcome.GONE: "outcome.gone",
    Outcome.DUPLICATE: "outcome.duplicate",
    Outcome.INVALID: "outcome.invalid",
}

#: The outcome as the reporter reads it (never more about the person than they gave).
REPORTER_OUTCOME = {
    Outcome.BROUGHT_IN: "reporter_outcome.brought_in",
    Outcome.HOSPITAL: "reporter_outcome.hospital",
    Outcome.SUPPLIES_ONLY: "reporter_outcome.supplies_only",
    Outcome.FAMILY: "reporter_outcome.family",
    Outcome.NOT_FOUND: "reporter_outcome.not_found",
    Outcome.GONE: "reporter_outcome.gone",
    Outcome.DUPLICATE: "reporter_outcome.duplicate",
    Outcome.INVALID: "reporter_outcome.invalid",
}

SUPPLY = {
    Supply.COAT: "supply.coat",
    Supply.QUILT: "supply.quilt",
    Supply.FOOD: "supply.food",
    Supply.DRINK: "supply.drink",
    Supply.HOTLINE_CARD: "supply.hotline_card",
}

FLAG = {
    Flag.CHILD: "flag.child",
    Flag.ILL: "flag.ill",
    Flag.ELDERLY: "flag.elderly",
    Flag.UNDERDRESSED: "flag.underdressed",
}

SEEN = {Seen.NOW: "seen.now", Seen.HOUR: "seen.hour", Seen.TODAY: "seen.today"}

PEOPLE = {People.ONE: "people.1", People.TWO: "people.2", People.MORE: "people.3+"}

SPOT = {
    Spot.UNDER_BRIDGE: "spot.under_bridge",
    Spot.UNDERPASS: "spot.underpass",
    Spot.BUS_STOP: "spot.bus_stop",
    Spot.SHOPFRONT: "spot.shopfront",
    Spot.PARK_BENCH: "spot.park_bench",
    Spot.STATION_HOSPITAL: "spot.station_hospital",
    Spot.OTHER: "spot.other",
}

SOURCE = {
    Source.REPORTER: "source.reporter",
    Source.HOTLINE: "source.hotline",
    Source.WEB: "source.web",
}

#: "Send a location / the wrong kind of message" at each step of a report.
WRONG = {
    Step.LOCATION: "wrong.location",
    Step.CONFIRM_PLACE: "wrong.confirm_place",
    Step.SPOT: "wrong.spot",
    Step.SPOT_TEXT: "wrong.spot_text",
    Step.SEEN: "wrong.seen",
    Step.PEOPLE: "wrong.people",
    Step.FLAGS: "wrong.flags",
    Step.DESCRIPTION: "wrong.description",
    Step.PHOTO: "wrong.photo",
    Step.REVIEW: "wrong.review",
    Step.AMEND: "wrong.amend",
}

#: How a person is named when no name is known (and how /whoami names a role).
ROLE = {
    Role.OFFICER: "role.officer",
    Role.LEADER: "role.leader",
    Role.MEMBER: "role.member",
    Role.REPORTER: "role.reporter",
    Role.STAFF: "role.staff",
}

#: A line of the card's timeline.
TIMELINE = {
    Action.DISPATCH: "timeline.dispatch",
    Action.CLAIM: "timeline.claim",
    Action.RELEASE: "timeline.release",
    Action.GO: "timeline.go",
    Action.ARRIVE: "timeline.arrive",
    Action.CLOSE: "timeline.close",
    Action.WITHDRAW: "timeline.withdraw",
    Act.EVIDENCE: "timeline.evidence",
}

#: The map links on a card (bot/geo/coords.py MapLink.key).
MAP = {
    "amap": "map.amap",
    "tencent": "map.tencent",
    "baidu": "map.baidu",
    "osm": "map.osm",
}

REWARD_STATE = {
    RewardState.PENDING: "reward_state.pending",
    RewardState.APPROVED: "reward_state.approved",
    RewardState.PAID: "reward_state.paid",
    RewardState.REJECTED: "reward_state.rejected",
}

PAY = {
    PayMethod.WECHAT: "pay.wechat",
    PayMethod.ALIPAY: "pay.alipay",
    PayMethod.BANK: "pay.bank",
    PayMethod.CASH: "pay.cash",
}

#: Why a closed tip earns nothing, told to its reporter.
NO_REWARD = {
    Ineligible.NOT_VERIFIED: "reward.none.not_verified",
    Ineligible.NO_REPORTER: "reward.none.no_reporter",
    Ineligible.STAFF: "reward.none.staff",
    Ineligible.DUPLICATE: "reward.none.duplicate",
    Ineligible.MONTHLY_CAP: "reward.none.monthly_cap",
    Ineligible.OUTSIDE_CAMPAIGN: "reward.none.outside_campaign",
}

#: Why a tip just sent cannot earn the reward, in its receipt (only these are told then).
NO_REWARD_AT_SUBMISSION = {
    Ineligible.STAFF: "submit.no_reward.staff",
    Ineligible.MONTHLY_CAP: "submit.no_reward.monthly_cap",
}

#: The periods of /ledger (bot/domain/rewards.py PERIODS).
PERIOD = {"today": "ledger.today", "month": "ledger.month", "campaign": "ledger.campaign"}

#: The summary chart's response legs (bot/views/charts.py).
LEG = {
    Leg.REPORT_CLAIM: "chart.leg.report_claim",
    Leg.CLAIM_ARRIVAL: "chart.leg.claim_arrival",
    Leg.REPORT_ARRIVAL: "chart.leg.report_arrival",
}

#: Why warmline was away, in the officers' outage notice (bot/jobs/outages.py).
CAUSE = {Cause.API: "ops.cause.api", Cause.STOPPED: "ops.cause.stopped"}

# == h13b — the reporter's answers to "still there?" (bot/domain/arrival.py) ==
PRESENCE = {
    Presence.HERE: "still.here",
    Presence.LEFT: "still.left",
    Presence.AWAY: "still.away",
}

# == h13c — issue 13: revisits ==
#: A revisit's outcomes (its buttons and its closed card).
REVISIT_OUTCOME = {
    RevisitOutcome.BROUGHT_IN: "revisit.outcome.brought_in",
    RevisitOutcome.SUPPLIES_AGAIN: "revisit.outcome.supplies_again",
    RevisitOutcome.NOT_THERE: "revisit.outcome.not_there",
    RevisitOutcome.REFUSED_AGAIN: "revisit.outcome.refused_again",
}

#: What made a revisit, on its card (a tip's outcome, or the revisit before's).
REVISIT_REASON = {
    Outcome.SUPPLIES_ONLY.value: "revisit.reason.refused",
    Outcome.NOT_FOUND.value: "revisit.reason.not_found",
    Outcome.GONE.value: "revisit.reason.gone",
    RevisitOutcome.SUPPLIES_AGAIN.value: "revisit.reason.refused",
    RevisitOutcome.REFUSED_AGAIN.value: "revisit.reason.refused_again",
}

#: Issue 14: the dashboard map's marker states (their legend and labels).
MARKER = {
    MarkerState.URGENT: "web.dash.marker.urgent",
    MarkerState.OVERDUE: "web.dash.marker.overdue",
    MarkerState.UNCLAIMED: "web.dash.marker.unclaimed",
    MarkerState.CLAIMED: "web.dash.marker.claimed",
    MarkerState.EN_ROUTE: "web.dash.marker.en_route",
    MarkerState.EN_ROUTE_ETA: "web.dash.marker.en_route_eta",
    MarkerState.ON_SCENE: "web.dash.marker.on_scene",
}

# == h15 — issue 15: the web report form ==
#: What a posted web form lacks, next to its field (bot/web/report/pages.py).
WEB_PROBLEM = {
    Problem.PLACE: "web.problem.place",
    Problem.SEEN: "web.problem.seen",
    Problem.PEOPLE: "web.problem.people",
    Problem.SPOT: "web.problem.spot",
    Problem.PHONE: "web.problem.phone",
    Problem.WORDS: "web.problem.words",
    Problem.PHOTO: "web.problem.photo",
}
