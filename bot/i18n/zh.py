"""简体中文 (default). Placeholders in {braces}; HTML allowed (values are escaped by callers)."""

MESSAGES: dict[str, str] = {
    # -- commands (menus) --
    "cmd.start": "开始",
    "cmd.report": "报告露宿或遇困人员",
    "cmd.mytips": "我的报告及进度",
    "cmd.cancel": "取消当前报告",
    "cmd.language": "切换语言 / Language",
    "cmd.help": "帮助",
    "cmd.whoami": "显示我的用户 ID 和本聊天 ID",
    "cmd.newtip": "登记热线电话报告",
    "cmd.open": "查看所有未结报告",
    # -- start / help --
    "start.welcome": (
        "🧣 <b>{station} · 寒冬送温暖</b>\n"
        "看到有人露宿街头或流落遇困？告诉我们位置，巡查队会尽快赶去救助。"
        "经核实的有效报告可获得奖励。\n\n"
        "🚑 <b>如有人受伤、昏迷，或是独自一人的儿童，请立即拨打 120 / 110。</b>\n"
        "救助热线：{hotline}\n\n"
        "最快的方式：直接发送位置，或点下面的按钮。"
    ),
    "btn.report": "🆘 报告需要帮助的人",
    "help.reporter": (
        "<b>如何报告</b>\n"
        "1. 发送位置（📍按钮或附件里的“位置”），或直接输入地址/地标\n"
        "2. 回答几个简单问题，可附一张照片（请勿打扰对方）\n"
        "3. 提交后会收到编号，进度会通知您\n\n"
        "/report 新报告 · /mytips 我的报告 · /cancel 取消 · /language 语言\n"
        "紧急情况请拨 120 / 110；救助热线：{hotline}"
    ),
    "help.patrol": (
        "<b>巡查队员</b>\n"
        "报告卡片会发到值班小组群里：点“认领”，出发、到达现场后点相应按钮，最后选择处置结果。\n"
        "在群里<b>回复报告卡片</b>发送照片、语音或视频，即作为救助记录附加到该报告。"
    ),
    "help.officer": (
        "<b>值班人员</b>\n/newtip 登记热线电话报告 · /open 查看所有未结报告（可对任何报告操作）"
    ),
    "help.group": (
        "这是巡查小组群。报告卡片会发到这里：认领 → 出发 → 到达现场 → 处置结果。\n"
        "回复卡片发送照片、语音、视频作为救助记录。/whoami 显示 ID。"
    ),
    "help.unknown_group": (
        "这个群还没有配置为巡查小组。请管理员用 /whoami 获取本群 ID，填入配置文件的 [[groups]]。"
    ),
    "whoami": "您的用户 ID：<code>{user_id}</code>\n本聊天 ID：<code>{chat_id}</code>（{chat_type}）\n身份：{role}",
    "role.officer": "值班人员",
    "role.leader": "组长",
    "role.member": "巡查队员",
    "role.reporter": "市民",
    "private_only": "这个命令请在与机器人的私聊中使用。",
    "language.choose": "请选择语言 / Choose your language:",
    "language.set": "已切换为中文。",
    "lang.name": "中文",
    "cancel.done": "已取消，没有提交任何内容。需要时随时再报告。",
    "cancel.nothing": "当前没有进行中的报告。",
    "unknown_command": "没有这个命令。发送 /help 查看可用的命令。",
    "button.invalid": "这个按钮已失效或无效。",
    "button.stale": "这个按钮已过期，请看最新的问题。",
    "error.generic": "抱歉，出了点问题，请稍后再试。紧急情况请直接拨打 120 / 110。",
    "flood": "消息太快了，请稍等几秒再发送。",
    # -- the report steps --
    "ask.location": (
        "📍 <b>人在哪里？</b>\n"
        "点下方“发送我的位置”，或用附件发送位置；也可以直接输入地址或地标（例如：黄石站、磁湖公园）。"
    ),
    "ask.location_hotline": "📞 <b>登记热线报告</b>\n请发送位置（附件 → 位置），或输入来电所说的地址/地标。",
    "btn.send_location": "📍 发送我的位置",
    "placeholder.address": "或输入地址 / 地标",
    "ask.confirm_place": "是这个地方吗？",
    "btn.place_yes": "✅ 是这里：{label}",
    "btn.place_other": "另一个：{label}",
    "btn.place_none": "❌ 都不是，重新输入",
    "place.chosen": "地点：",
    "ask.seen": "🕒 <b>什么时候看到的？</b>",
    "ask.people": "👥 <b>有几个人？</b>",
    "ask.flags": "可多选，然后点“完成”：",
    "btn.flags_done": "完成 ➡️",
    "ask.description": "📝 简单描述一下（衣着、具体位置、状况等）。没有可补充的就点“跳过”。",
    "ask.photo": "📷 方便的话发一张照片（请保持距离，不要打扰对方）。没有就点“跳过”。",
    "btn.skip": "跳过",
    "review": (
        "<b>请确认：</b>\n"
        "📍 地点：{place}\n"
        "🕒 时间：{seen}\n"
        "👥 人数：{people}\n"
        "⚠️ 情况：{flags}\n"
        "📝 描述：{description}\n"
        "📷 照片：{photo}"
    ),
    "yes": "有",
    "no": "无",
    "btn.submit": "✅ 提交报告",
    "btn.cancel_report": "❌ 取消",
    "seen.now": "刚刚看到",
    "seen.hour": "一小时内",
    "seen.today": "今天早些时候",
    "people.1": "1 人",
    "people.2": "2 人",
    "people.3+": "3 人及以上",
    "flag.child": "像是儿童",
    "flag.ill": "看起来生病或受伤",
    "flag.elderly": "老人",
    "flag.underdressed": "衣着单薄",
    "urgent.advice": "🚑 <b>如果对方受伤、昏迷，或是独自一人的儿童，请现在就拨打 120 / 110。</b>我们也会把这条报告标为紧急。",
    "location.ok": "✅ 位置已收到。",
    "location.outside": (
        "这个位置不在{station}的服务范围内，报告没有保存。"
        "请拨打当地救助热线或 110；如果确实在本市，请拨打 {hotline}。"
    ),
    "location.invalid": "这个位置无效，请重新发送。",
    "location.already": "位置已经记录。如需更改地点，请 /cancel 后重新报告。",
    "address.bad": "请输入 2–200 个字的地址或地标，或直接发送位置。",
    "address.offline": "（地图服务暂时无法访问，以下结果来自离线地名表，可能不够精确。）",
    "address.not_found": "没找到这个地方。请换个说法（如附近的路名、地标），或直接发送位置。也可以拨打救助热线 {hotline}。",
    "description.cut": "描述太长，只保留了前 {limit} 个字。",
    "photo.ok": "📷 照片已收到。",
    "photo.as_file": "请以“照片”方式发送（不要作为文件发送），这样不会带上您的位置等隐私信息。",
    "hint.start": "要报告需要帮助的人，请发送位置或输入地址；也可以发送 /report。",
    "wrong.location": "请发送位置，或输入地址/地标。",
    "wrong.confirm_place": "请点上面的按钮确认地点，或重新输入地址。",
    "wrong.seen": "请点按钮选择什么时候看到的。",
    "wrong.people": "请点按钮选择人数。",
    "wrong.flags": "请点按钮选择情况（可多选），然后点“完成”。",
    "wrong.description": "请用文字描述，或点“跳过”。",
    "wrong.photo": "请发送一张照片，或点“跳过”。",
    "wrong.review": "请点“提交报告”或“取消”。",
    "submit.received": (
        "✅ <b>已收到，编号 {code}。</b>已通知值班巡查组，有进展会告诉您。\n"
        "谢谢您！/mytips 可查看进度。"
    ),
    "submit.received_urgent": (
        "✅ <b>已收到，编号 {code}，已标为紧急。</b>已通知值班巡查组。\n"
        "🚑 如有人受伤、昏迷或是独自一人的儿童，请同时拨打 120 / 110。"
    ),
    "submit.logged": "✅ 已登记 {code}，已派发给{group}。",
    "submit.too_many": "一小时内最多提交 {limit} 条报告。如有紧急情况，请拨打救助热线 {hotline} 或 110。",
    # -- /mytips --
    "mytips.none": "您还没有提交过报告。",
    "mytips.head": "<b>我的报告</b>",
    "mytips.line": "{code} · {when} · {state}",
    "btn.withdraw": "撤回 {code}",
    "withdraw.done": "已撤回。",
    "withdraw.too_late": "巡查队已经在处理，无法撤回了。",
    "reporter_state.new": "已收到",
    "reporter_state.dispatched": "已通知巡查组，等待认领",
    "reporter_state.claimed": "巡查队员已认领",
    "reporter_state.en_route": "巡查队员正在前往",
    "reporter_state.on_scene": "巡查队员已到达",
    "reporter_state.closed": "已结束",
    "reporter_state.withdrawn": "已撤回",
    "reporter_outcome.brought_in": "已找到并提供帮助",
    "reporter_outcome.hospital": "已找到并提供帮助",
    "reporter_outcome.supplies_only": "已找到并提供帮助",
    "reporter_outcome.family": "已找到并提供帮助",
    "reporter_outcome.not_found": "巡查队到达时未找到",
    "reporter_outcome.gone": "巡查队到达时未找到",
    "reporter_outcome.duplicate": "已有他人报告，正在一并处理",
    "reporter_outcome.invalid": "已关闭",
    # -- notices to the reporter --
    "notice.claimed": "🚶 您的报告 {code} 已有巡查队员认领，正在安排前往。",
    "notice.closed_helped": "🧡 报告 {code}：巡查队已找到这位需要帮助的人，并提供了帮助。谢谢您的关心！",
    "notice.closed_not_found": "报告 {code}：巡查队到达时没有找到这个人。谢谢您的关心，如再看到请随时报告。",
    "notice.closed_duplicate": "报告 {code}：这个情况已有其他人报告，巡查队正在一并处理。谢谢您！",
    "notice.closed_invalid": "报告 {code} 已关闭。如有疑问请拨打救助热线。",
    # -- the card --
    "card.urgent": "🔴 <b>紧急</b>",
    "card.normal": "🟠",
    "card.head": "{mark} <b>{code}</b> · {state}",
    "card.people": "👥 {people} · {flags}",
    "card.seen": "🕒 {seen} · {at} 报告 · {source}",
    "card.place": "📍 {place}",
    "card.description": "📝 {text}",
    "card.maps": "🗺 {links}",
    "card.duplicates": "⚠️ 附近可能重复：{tips}",
    "card.group": "🚐 {group}",
    "card.claimed_by": "🙋 认领：{name}",
    "card.closed_by": "🏁 处置：{name}",
    "card.supplies": "🧥 发放：{items}",
    "card.duplicate_of": "🔁 与 {code} 重复",
    "card.evidence": "📎 记录 {count} 件",
    "card.reply_hint": "<i>回复本卡片发送照片/语音/视频，即附加为救助记录。</i>",
    "card.state_closed": "已结案：{outcome}",
    "source.reporter": "市民报告",
    "source.hotline": "热线电话",
    "map.amap": "高德",
    "map.tencent": "腾讯",
    "map.baidu": "百度",
    "map.osm": "OSM",
    "state.new": "新报告",
    "state.dispatched": "待认领",
    "state.claimed": "已认领",
    "state.en_route": "前往中",
    "state.on_scene": "已到现场",
    "state.closed": "已结案",
    "state.withdrawn": "报告人已撤回",
    "outcome.brought_in": "🏠 带回站内",
    "outcome.hospital": "🏥 送医",
    "outcome.supplies_only": "🧥 仅发放物资（本人不愿入站）",
    "outcome.family": "👪 联系家属",
    "outcome.not_found": "🔍 未找到",
    "outcome.gone": "🚶 已离开",
    "outcome.duplicate": "🔁 重复报告",
    "outcome.invalid": "🚫 无效报告",
    "supply.coat": "棉衣",
    "supply.quilt": "棉被",
    "supply.food": "食物",
    "supply.drink": "热饮/水",
    "supply.hotline_card": "求助热线卡",
    "timeline.dispatch": "已派发",
    "timeline.claim": "{name} 认领",
    "timeline.release": "{name} 放弃认领",
    "timeline.go": "{name} 出发",
    "timeline.arrive": "{name} 到达现场",
    "timeline.close": "{name} 结案",
    "timeline.withdraw": "报告人撤回",
    "timeline.evidence": "{name} 添加记录",
    "btn.claim": "✋ 认领",
    "btn.go": "🚐 出发",
    "btn.arrive": "📍 已到现场",
    "btn.release": "↩️ 放弃认领",
    "btn.duplicate": "🔁 重复",
    "btn.invalid": "🚫 无效",
    "btn.confirm_outcome": "确认：{outcome}",
    "btn.back": "⬅️ 返回",
    "btn.supplies_done": "✅ 确认发放并结案",
    "btn.duplicate_of": "与 {code} 重复",
    # -- patrol feedback --
    "done.claim": "已认领 {code}，注意安全。",
    "done.release": "已放弃认领 {code}。",
    "done.go": "{code}：已出发。",
    "done.arrive": "{code}：已到现场。",
    "done.close": "{code} 已结案，辛苦了！",
    "refused.not_allowed": "抱歉，只有{group}的队员、组长和值班人员可以操作这条报告。",
    "refused.officer_only": "抱歉，这个操作只限值班人员。",
    "refused.stale": "{code} 的状态已经变化（现在：{state}），卡片已刷新。",
    "refused.bad_duplicate": "无法标记为重复：请选择另一条报告。",
    "dups.none": "附近没有其他未结报告可以合并。",
    "evidence.added": "📎 已附加到 {code}（共 {count} 件记录）。",
    "evidence.not_allowed": "只有巡查队员和值班人员可以给报告添加记录。",
    # -- officer --
    "open.none": "目前没有未结报告。",
    "open.head": "<b>未结报告：{count} 条</b>",
    "open.line": "{mark} {code} · {age} 分钟 · {state} · {group} · 认领：{who}",
    "open.more": "……还有 {count} 条未显示。",
    "open.sent": "已发送 {code} 的卡片。",
    "btn.show": "查看 {code}",
}
