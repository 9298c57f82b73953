"""English. Keys and placeholders must match ``zh.py`` (a test checks)."""

MESSAGES: dict[str, str] = {
    # -- commands (menus) --
    "cmd.start": "Start",
    "cmd.report": "Report someone sleeping rough or stranded",
    "cmd.mytips": "My reports and their status",
    "cmd.cancel": "Cancel the report in progress",
    "cmd.language": "Language / 切换语言",
    "cmd.help": "Help",
    "cmd.whoami": "Show my user id and this chat's id",
    "cmd.newtip": "Log a tip phoned in to the hotline",
    "cmd.open": "All open tips",
    # -- start / help --
    "start.welcome": (
        "🧣 <b>{station} · Winter Warmth</b>\n"
        "Seen someone sleeping rough or stranded in the cold? Tell us where, and a patrol "
        "will go and help. Verified reports can earn a reward.\n\n"
        "🚑 <b>If someone is injured, unconscious, or a child is alone, call 120 / 110 now.</b>\n"
        "Relief hotline: {hotline}\n\n"
        "Quickest: just send a location, or tap the button below."
    ),
    "btn.report": "🆘 Report someone in need",
    "help.reporter": (
        "<b>How to report</b>\n"
        "1. Send a location (📍 button or Attach → Location), or type an address or landmark\n"
        "2. Answer a few quick questions; add a photo if you can (keep your distance)\n"
        "3. You get a code and updates as the patrol works on it\n\n"
        "/report new report · /mytips my reports · /cancel cancel · /language language\n"
        "Emergencies: 120 / 110. Relief hotline: {hotline}"
    ),
    "help.patrol": (
        "<b>Patrol members</b>\n"
        "Cards arrive in the on-duty group: tap Claim, then On my way / On scene, then the "
        "outcome.\nReply to a card with photos, voice notes or videos to attach them as evidence."
    ),
    "help.officer": (
        "<b>Duty officers</b>\n"
        "/newtip log a hotline tip · /open every open tip (you can act on any of them)"
    ),
    "help.group": (
        "This is a patrol group. Tip cards arrive here: Claim → On my way → On scene → Outcome.\n"
        "Reply to a card with photos, voice notes or videos as evidence. /whoami shows ids."
    ),
    "help.unknown_group": (
        "This group is not configured as a patrol group yet. An admin can use /whoami to get "
        "its id and add it under [[groups]] in the config file."
    ),
    "whoami": "Your user id: <code>{user_id}</code>\nThis chat's id: <code>{chat_id}</code> ({chat_type})\nRole: {role}",
    "role.officer": "duty officer",
    "role.leader": "group leader",
    "role.member": "patrol member",
    "role.reporter": "member of the public",
    "private_only": "Please use this command in a private chat with the bot.",
    "language.choose": "Choose your language / 请选择语言:",
    "language.set": "Language set to English.",
    "lang.name": "English",
    "cancel.done": "Cancelled; nothing was sent. Report again any time.",
    "cancel.nothing": "There is no report in progress.",
    "unknown_command": "I don't know that command. Send /help to see what I can do.",
    "button.invalid": "This button is no longer valid.",
    "button.stale": "That button is out of date; please answer the latest question.",
    "error.generic": "Sorry, something went wrong. Please try again. In an emergency call 120 / 110.",
    "flood": "That's a lot of messages at once. Please wait a few seconds.",
    # -- the report steps --
    "ask.location": (
        "📍 <b>Where is the person?</b>\n"
        "Tap “Send my location” below, or send a location from the attachment menu, or type an "
        "address or landmark (e.g. Huangshi Railway Station, Cihu Lake)."
    ),
    "ask.location_hotline": "📞 <b>Log a hotline tip</b>\nSend a location (Attach → Location) or type the address or landmark the caller gave.",
    "btn.send_location": "📍 Send my location",
    "placeholder.address": "or type an address / landmark",
    "ask.confirm_place": "Is this the place?",
    "btn.place_yes": "✅ Yes, here: {label}",
    "btn.place_other": "Other: {label}",
    "btn.place_none": "❌ None of these, retype",
    "place.chosen": "Place:",
    "ask.seen": "🕒 <b>When did you see them?</b>",
    "ask.people": "👥 <b>How many people?</b>",
    "ask.flags": "Tick any that apply, then tap Done:",
    "btn.flags_done": "Done ➡️",
    "ask.description": "📝 A few words (clothing, exact spot, condition). Nothing to add? Tap Skip.",
    "ask.photo": "📷 A photo if you can (keep your distance, don't disturb them). None? Tap Skip.",
    "btn.skip": "Skip",
    "review": (
        "<b>Please check:</b>\n"
        "📍 Place: {place}\n"
        "🕒 Seen: {seen}\n"
        "👥 People: {people}\n"
        "⚠️ Notes: {flags}\n"
        "📝 Description: {description}\n"
        "📷 Photo: {photo}"
    ),
    "yes": "yes",
    "no": "no",
    "btn.submit": "✅ Send report",
    "btn.cancel_report": "❌ Cancel",
    "seen.now": "Just now",
    "seen.hour": "Within the hour",
    "seen.today": "Earlier today",
    "people.1": "1 person",
    "people.2": "2 people",
    "people.3+": "3 or more",
    "flag.child": "Looks like a child",
    "flag.ill": "Looks ill or injured",
    "flag.elderly": "Elderly",
    "flag.underdressed": "Not dressed for the cold",
    "urgent.advice": "🚑 <b>If they are injured, unconscious, or a child alone, call 120 / 110 now.</b> We will also mark this report urgent.",
    "location.ok": "✅ Location received.",
    "location.outside": (
        "That location is outside the area {station} serves, so nothing was saved. "
        "Please call the local relief hotline or 110; if it really is in our city, call {hotline}."
    ),
    "location.invalid": "That location is not valid; please send it again.",
    "location.already": "The location is already set. To change it, /cancel and report again.",
    "address.bad": "Please type an address or landmark of 2–200 characters, or send a location.",
    "address.offline": "(The map service is unreachable right now; these results come from an offline list of places and may be rough.)",
    "address.not_found": "I couldn't find that place. Try a nearby road or landmark, or send a location. You can also call the relief hotline {hotline}.",
    "description.cut": "That was long; I kept the first {limit} characters.",
    "photo.ok": "📷 Photo received.",
    "photo.as_file": "Please send it as a photo, not as a file, so that your location and other private data are not included.",
    "hint.start": "To report someone in need, send a location or type an address; or send /report.",
    "wrong.location": "Please send a location, or type an address or landmark.",
    "wrong.confirm_place": "Please tap a button above to confirm the place, or type the address again.",
    "wrong.seen": "Please tap a button to say when you saw them.",
    "wrong.people": "Please tap a button to say how many people.",
    "wrong.flags": "Please tick what applies (any number), then tap Done.",
    "wrong.description": "Please describe in words, or tap Skip.",
    "wrong.photo": "Please send a photo, or tap Skip.",
    "wrong.review": "Please tap “Send report” or “Cancel”.",
    "submit.received": (
        "✅ <b>Received — your code is {code}.</b> The on-duty patrol has been alerted; "
        "we'll tell you how it goes.\nThank you! /mytips shows the status."
    ),
    "submit.received_urgent": (
        "✅ <b>Received — code {code}, marked urgent.</b> The on-duty patrol has been alerted.\n"
        "🚑 If someone is injured, unconscious or a child alone, please also call 120 / 110."
    ),
    "submit.logged": "✅ Logged {code} and dispatched to {group}.",
    "submit.too_many": "At most {limit} reports per hour. In an emergency call the relief hotline {hotline} or 110.",
    # -- /mytips --
    "mytips.none": "You haven't sent any reports yet.",
    "mytips.head": "<b>My reports</b>",
    "mytips.line": "{code} · {when} · {state}",
    "btn.withdraw": "Withdraw {code}",
    "withdraw.done": "Withdrawn.",
    "withdraw.too_late": "A patrol is already working on it, so it can't be withdrawn.",
    "reporter_state.new": "received",
    "reporter_state.dispatched": "patrol alerted, waiting for a member to take it",
    "reporter_state.claimed": "a patrol member has taken it",
    "reporter_state.en_route": "a patrol member is on the way",
    "reporter_state.on_scene": "the patrol is there",
    "reporter_state.closed": "finished",
    "reporter_state.withdrawn": "withdrawn",
    "reporter_outcome.brought_in": "found and helped",
    "reporter_outcome.hospital": "found and helped",
    "reporter_outcome.supplies_only": "found and helped",
    "reporter_outcome.family": "found and helped",
    "reporter_outcome.not_found": "not found when the patrol arrived",
    "reporter_outcome.gone": "not found when the patrol arrived",
    "reporter_outcome.duplicate": "already reported by someone else; handled together",
    "reporter_outcome.invalid": "closed",
    # -- notices to the reporter --
    "notice.claimed": "🚶 Your report {code} has been taken by a patrol member, who is getting ready to go.",
    "notice.closed_helped": "🧡 Report {code}: the patrol found the person and helped them. Thank you for caring!",
    "notice.closed_not_found": "Report {code}: the patrol did not find the person when they arrived. Thank you — if you see them again, please report again.",
    "notice.closed_duplicate": "Report {code}: someone else had already reported this; the patrol is handling it. Thank you!",
    "notice.closed_invalid": "Report {code} has been closed. Questions? Call the relief hotline.",
    # -- the card --
    "card.urgent": "🔴 <b>URGENT</b>",
    "card.normal": "🟠",
    "card.head": "{mark} <b>{code}</b> · {state}",
    "card.people": "👥 {people} · {flags}",
    "card.seen": "🕒 {seen} · reported {at} · {source}",
    "card.place": "📍 {place}",
    "card.description": "📝 {text}",
    "card.maps": "🗺 {links}",
    "card.duplicates": "⚠️ Possible duplicates nearby: {tips}",
    "card.group": "🚐 {group}",
    "card.claimed_by": "🙋 Claimed by {name}",
    "card.closed_by": "🏁 Closed by {name}",
    "card.supplies": "🧥 Given: {items}",
    "card.duplicate_of": "🔁 Duplicate of {code}",
    "card.evidence": "📎 {count} evidence item(s)",
    "card.reply_hint": "<i>Reply to this card with photos / voice / video to attach evidence.</i>",
    "card.state_closed": "closed: {outcome}",
    "source.reporter": "public report",
    "source.hotline": "hotline call",
    "map.amap": "Amap",
    "map.tencent": "Tencent",
    "map.baidu": "Baidu",
    "map.osm": "OSM",
    "state.new": "new",
    "state.dispatched": "waiting for a claim",
    "state.claimed": "claimed",
    "state.en_route": "on the way",
    "state.on_scene": "on scene",
    "state.closed": "closed",
    "state.withdrawn": "withdrawn by the reporter",
    "outcome.brought_in": "🏠 Brought in",
    "outcome.hospital": "🏥 To hospital",
    "outcome.supplies_only": "🧥 Supplies only (refused to come in)",
    "outcome.family": "👪 Family contacted",
    "outcome.not_found": "🔍 Not found",
    "outcome.gone": "🚶 Gone",
    "outcome.duplicate": "🔁 Duplicate",
    "outcome.invalid": "🚫 Invalid",
    "supply.coat": "Coat",
    "supply.quilt": "Quilt",
    "supply.food": "Food",
    "supply.drink": "Hot drink / water",
    "supply.hotline_card": "Hotline card",
    "timeline.dispatch": "dispatched",
    "timeline.claim": "{name} claimed",
    "timeline.release": "{name} released",
    "timeline.go": "{name} on the way",
    "timeline.arrive": "{name} on scene",
    "timeline.close": "{name} closed",
    "timeline.withdraw": "withdrawn by the reporter",
    "timeline.evidence": "{name} added evidence",
    "btn.claim": "✋ Claim",
    "btn.go": "🚐 On my way",
    "btn.arrive": "📍 On scene",
    "btn.release": "↩️ Release",
    "btn.duplicate": "🔁 Duplicate",
    "btn.invalid": "🚫 Invalid",
    "btn.confirm_outcome": "Confirm: {outcome}",
    "btn.back": "⬅️ Back",
    "btn.supplies_done": "✅ Confirm supplies and close",
    "btn.duplicate_of": "Duplicate of {code}",
    # -- patrol feedback --
    "done.claim": "You claimed {code}. Stay safe.",
    "done.release": "Released {code}.",
    "done.go": "{code}: on the way.",
    "done.arrive": "{code}: on scene.",
    "done.close": "{code} closed. Thank you!",
    "refused.not_allowed": "Sorry, only members of {group}, group leaders and duty officers can act on this tip.",
    "refused.officer_only": "Sorry, only duty officers can do that.",
    "refused.stale": "{code} has changed (now: {state}); the card has been refreshed.",
    "refused.bad_duplicate": "Can't mark it as a duplicate of that; choose another tip.",
    "dups.none": "There is no other open tip nearby to merge with.",
    "evidence.added": "📎 Attached to {code} ({count} item(s) in all).",
    "evidence.not_allowed": "Only patrol members and duty officers can add evidence to a tip.",
    # -- officer --
    "open.none": "No open tips right now.",
    "open.head": "<b>Open tips: {count}</b>",
    "open.line": "{mark} {code} · {age} min · {state} · {group} · claimed by: {who}",
    "open.more": "… and {count} more not shown.",
    "open.sent": "Sent the card for {code}.",
    "btn.show": "Show {code}",
}
