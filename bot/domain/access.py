"""Who someone is towards one tip: the roles the transition table checks. Pure."""

from __future__ import annotations

from bot.domain.roster import Directory
from bot.domain.tips import Actor, Role, Tip


def actor_for(directory: Directory, tip: Tip, user_id: int) -> Actor:
    """The roles ``user_id`` holds towards ``tip``.

    Officers may act on any tip; the leader and members of the tip's group on its tips; once
    the tip was widened (every group alerted, the second escalation) a member of any group
    may take it on; whoever claimed it is its claimer while they are staff.
    """
    roles: set[Role] = set()
    if directory.is_officer(user_id):
        roles.add(Role.OFFICER)
    team = directory.find(tip.group_key)
    if team is not None:
        if team.leader == user_id:
            roles.add(Role.LEADER)
        if team.includes(user_id):
            roles.add(Role.MEMBER)
    if tip.widened_at is not None and directory.team_of(user_id) is not None:
        roles.add(Role.MEMBER)
    if tip.claimed_by == user_id and roles:
        roles.add(Role.CLAIMER)
    return Actor(user_id, frozenset(roles))
