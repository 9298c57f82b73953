"use strict";
// warmline demo: three chats side by side over the Bot API emulator.
// Bot messages are built from plain text + entities with textContent; never innerHTML.

// ---------------------------------------------------------------- all the page's own words
const LABELS = {
  title: "warmline 演练沙盒 · sandbox",
  webReport: "网页报告 · web form",
  tabs: { reporter: "市民 Reporter", group: "巡查小组 Patrol", officer: "值班 Officer" },
  paneTitle: {
    reporter: "市民与机器人的私聊 · reporter's private chat",
    group: "值班巡查小组群 · on-duty patrol group",
    officer: "值班人员与机器人的私聊 · duty officer's private chat",
  },
  actingAs: "身份 act as",
  group: "小组 group",
  onDuty: "值班 on duty",
  dutyLine: "当前值班小组 on duty: ",
  live: "● 实时 live",
  offline: "○ 已断开 offline — 演示已停止？ demo stopped?",
  connecting: "… 连接中 connecting",
  placeholder: "输入消息或 /命令 · message or /command",
  commands: "命令 commands",
  attach: "附件 attach",
  keyboard: "键盘 keyboard",
  send: "发送 send",
  attachLocation: "📍 位置 location",
  attachPhoto: "📷 示例照片 sample photo",
  attachContact: "👤 我的电话 my phone",
  replyingTo: "↩ 回复 reply to ",
  replyHint: "点消息可回复 · click a message to reply",
  edited: "已编辑 edited",
  placeTitle: "选择位置 · choose a location",
  placeFor: "发送者 sending as: ",
  placeFilter: "筛选地点 filter places…",
  coordsLegend: "或输入坐标 (WGS-84) · or enter coordinates",
  lat: "纬度 lat",
  lon: "经度 lon",
  sendCoords: "发送坐标 send",
  asVenue: "作为地点（带名称）发送 · send as a named place (venue)",
  cancel: "取消 cancel",
  near: "附近 near ",
  photo: "照片 photo",
  contact: "联系人 contact",
  voice: "🎤 语音 voice",
  video: "🎬 视频 video",
  document: "📄 文件 file",
  sticker: "🙂 贴纸 sticker",
  samplePhoto: "示例照片 SAMPLE",
  noMessages: "还没有消息 · no messages yet",
  // A private chat with the bot that was never started: Telegram's START button.
  startCue: {
    reporter: "点“开始”或发送 /start；也可以直接发送位置来报告 · Press START (/start), or just send a location to report",
    officer: "点“开始”或发送 /start · Press START (/start) to begin",
  },
  startButton: "▶ 开始 START",
  error: "出错了 error: ",
  noAnswer: "机器人没有回应这个按钮 · the bot did not answer",
  unsupported: "演示不支持这个按钮 · not supported in the demo",
};

// ---------------------------------------------------------------- state
const PANES = [
  { key: "reporter", roles: ["reporter"] },
  { key: "group", roles: ["leader", "member"] },
  { key: "officer", roles: ["officer"] },
];
const S = { state: null, world: -1, panes: {}, active: "reporter", dialogPane: null, tz: "Asia/Shanghai" };

const $ = (root, sel) => root.querySelector(sel);
function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

// ---------------------------------------------------------------- start-up
function applyLabels(root) {
  root.querySelectorAll("[data-label]").forEach((n) => { n.textContent = LABELS[n.dataset.label]; });
  root.querySelectorAll("[data-label-title]").forEach((n) => {
    n.title = LABELS[n.dataset.labelTitle];
    n.setAttribute("aria-label", LABELS[n.dataset.labelTitle]);
  });
  root.querySelectorAll("[data-label-placeholder]").forEach((n) => {
    n.placeholder = LABELS[n.dataset.labelPlaceholder];
  });
}

function buildPanes() {
  const template = document.getElementById("pane-template");
  const tabs = document.getElementById("tabs");
  for (const def of PANES) {
    const node = template.content.firstElementChild.cloneNode(true);
    node.dataset.pane = def.key;
    node.id = "pane-" + def.key;
    applyLabels(node);
    $(node, ".title-text").textContent = LABELS.paneTitle[def.key];
    $(node, ".avatar").textContent = def.key === "group" ? "👥" : "🤖";
    $(node, ".input").placeholder = LABELS.placeholder;
    $(node, "[data-attach=location]").textContent = LABELS.attachLocation;
    $(node, "[data-attach=photo]").textContent = LABELS.attachPhoto;
    $(node, "[data-attach=contact]").textContent = LABELS.attachContact;
    document.getElementById("panes").appendChild(node);
    const pane = {
      key: def.key, roles: def.roles, el: node, list: $(node, ".messages"),
      userId: null, chatId: null, groupKey: null, version: -1, nodes: new Map(),
      loading: false, dirty: false, replyTo: null, keyboard: null, kbdSig: "", kbdHidden: false,
      count: 0, stick: true,
    };
    S.panes[def.key] = pane;
    wirePane(pane);

    const tab = el("button", "tab", LABELS.tabs[def.key]);
    tab.type = "button";
    tab.dataset.tab = def.key;
    tab.setAttribute("role", "tab");
    tab.addEventListener("click", () => activate(def.key));
    tabs.appendChild(tab);
  }
  activate("reporter");
}

function activate(key) {
  S.active = key;
  document.body.dataset.active = key;
  document.querySelectorAll(".tab").forEach((t) => {
    const on = t.dataset.tab === key;
    t.classList.toggle("active", on);
    t.setAttribute("aria-selected", String(on));
    if (on) t.classList.remove("unread");
  });
  // Opening a chat shows its newest message (a hidden pane could not keep its place).
  const pane = S.panes[key];
  if (pane) scrollDown(pane);
}

async function loadState() {
  const state = await api("/api/state");
  S.state = state;
  S.world = state.world;
  S.tz = state.station.timezone || S.tz;
  const duty = state.groups.find((g) => g.key === state.on_duty);
  document.getElementById("duty").textContent = LABELS.dutyLine + (duty ? duty.name : "—");
  document.getElementById("status").textContent = state.status || "";
  const webReport = document.getElementById("web-report");  // the public form (issue 15)
  if (state.report_url) { webReport.href = state.report_url; webReport.hidden = false; }
  for (const pane of Object.values(S.panes)) buildSelectors(pane);
}

function person(id) {
  return S.state.people.find((p) => p.id === id);
}

function buildSelectors(pane) {
  const box = $(pane.el, ".selectors");
  const state = S.state;
  box.replaceChildren();
  if (pane.key === "group") {
    if (!pane.groupKey) pane.groupKey = state.on_duty;
    const groupSelect = el("select", "group-select");
    groupSelect.setAttribute("aria-label", LABELS.group);
    for (const g of state.groups) {
      const option = el("option", null, g.name + (g.key === state.on_duty ? " · " + LABELS.onDuty : ""));
      option.value = g.key;
      groupSelect.appendChild(option);
    }
    groupSelect.value = pane.groupKey;
    groupSelect.addEventListener("change", () => {
      pane.groupKey = groupSelect.value;
      pane.userId = null;
      buildSelectors(pane);
    });
    box.append(labelled(LABELS.group, groupSelect));
  }
  const people = state.people.filter((p) => pane.roles.includes(p.role) &&
    (pane.key !== "group" || p.group === pane.groupKey));
  people.sort((a, b) => (a.role === "leader" ? -1 : 0) - (b.role === "leader" ? -1 : 0));
  const select = el("select", "as-select");
  select.setAttribute("aria-label", LABELS.actingAs);
  for (const p of people) {
    const option = el("option", null, p.name + (p.note ? " · " + p.note : ""));
    option.value = String(p.id);
    select.appendChild(option);
  }
  if (!people.some((p) => p.id === pane.userId)) pane.userId = people.length ? people[0].id : null;
  select.value = String(pane.userId);
  select.addEventListener("change", () => {
    pane.userId = Number(select.value);
    setChat(pane);
  });
  box.append(labelled(LABELS.actingAs, select));
  setChat(pane);
}

function labelled(text, control) {
  const label = el("label", "selector");
  label.append(el("span", null, text), control);
  return label;
}

function setChat(pane) {
  let chatId = pane.userId;
  if (pane.key === "group") {
    const group = S.state.groups.find((g) => g.key === pane.groupKey);
    chatId = group ? group.chat_id : null;
    const title = group ? group.title : LABELS.paneTitle.group;
    $(pane.el, ".title-text").textContent = title;
  }
  if (chatId !== pane.chatId) {
    pane.chatId = chatId;
    pane.version = -1;
    pane.nodes = new Map();
    pane.list.replaceChildren();
    pane.count = 0;
    pane.kbdSig = "";
    setReply(pane, null);
  }
  // Whose bubbles are "mine" depends on who is acting: re-render from scratch.
  pane.nodes = new Map();
  refresh(pane);
}

// ---------------------------------------------------------------- live updates
function connect() {
  const live = document.getElementById("live");
  const show = (state) => {
    live.dataset.state = state;
    live.textContent = LABELS[state];
  };
  show("connecting");
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => show("live"));
  source.addEventListener("error", () => show("offline"));
  source.addEventListener("change", (event) => {
    show("live");
    const data = JSON.parse(event.data);
    if (data.world !== S.world) {
      loadState().catch(() => {});
    }
    for (const pane of Object.values(S.panes)) {
      const version = data.chats[String(pane.chatId)] || 0;
      if (version !== pane.version) refresh(pane);
    }
  });
}

async function refresh(pane) {
  if (pane.chatId === null) return;
  if (pane.loading) {
    pane.dirty = true;
    return;
  }
  pane.loading = true;
  try {
    do {
      pane.dirty = false;
      const chatId = pane.chatId;
      const data = await api("/api/chat/" + chatId);
      if (chatId === pane.chatId) render(pane, data);
    } while (pane.dirty);
  } catch (error) {
    toast(pane, LABELS.error + error.message);
  } finally {
    pane.loading = false;
  }
}

// ---------------------------------------------------------------- rendering
function render(pane, data) {
  const list = pane.list;
  const seen = new Map();
  const nodes = [];
  let mineAdded = false;
  for (const m of data.messages) {
    const mine = !m.from_bot && m.from_id === pane.userId;
    // What the message itself says (a quote's snippet changing is not the message changing).
    const content = JSON.stringify({ ...m, reply_to: m.reply_to ? m.reply_to.id : null });
    const sig = JSON.stringify(m.reply_to) + content + (mine ? "1" : "0") +
      (pane.replyTo && pane.replyTo.id === m.id ? "r" : "");
    const old = pane.nodes.get(m.id);
    let node;
    if (old && old.sig === sig) {
      node = old.node;
    } else {
      node = renderMessage(pane, m, mine);
      if (old && old.content !== content && pane.version !== -1) {
        node.classList.add("changed");
        node.addEventListener("animationend", () => node.classList.remove("changed"), { once: true });
      }
      if (!old && mine) mineAdded = true;
    }
    seen.set(m.id, { sig, content, node });
    nodes.push(node);
  }
  if (!nodes.length) nodes.push(emptyChat(pane));
  const grew = data.messages.length > pane.count;
  pane.count = data.messages.length;
  pane.nodes = seen;
  patchChildren(list, nodes);
  // The keyboard first: it takes room from the messages, so scroll once it is there.
  renderKeyboard(pane, data.keyboard);
  pane.commands = data.commands || [];
  if (pane.stick || mineAdded || pane.version === -1) scrollDown(pane);
  if (grew && S.active !== pane.key && pane.version !== -1) {
    const tab = document.querySelector(`.tab[data-tab="${pane.key}"]`);
    if (tab) tab.classList.add("unread");
  }
  pane.version = data.version;
}

// What an empty chat shows. A private chat opens as in Telegram: a cue and a START button.
function emptyChat(pane) {
  const cue = LABELS.startCue[pane.key];
  if (!cue) return el("div", "empty", LABELS.noMessages);
  const box = el("div", "empty start-cue");
  box.appendChild(el("p", null, cue));
  const button = el("button", "start-btn", LABELS.startButton);
  button.type = "button";
  button.addEventListener("click", () => sendText(pane, "/start"));
  box.appendChild(button);
  return box;
}

// Make list's children exactly `nodes`, touching only what changed (re-inserting a node
// would restart its animation and lose its hover state).
function patchChildren(list, nodes) {
  const wanted = new Set(nodes);
  for (const child of [...list.children]) if (!wanted.has(child)) child.remove();
  let cursor = list.firstElementChild;
  for (const node of nodes) {
    if (node === cursor) cursor = cursor.nextElementSibling;
    else list.insertBefore(node, cursor);
  }
}

// A chat that was scrolled to the end stays at the end as messages (and pictures) arrive.
function scrollDown(pane) {
  pane.list.scrollTop = pane.list.scrollHeight;
  pane.stick = true;
}

function renderMessage(pane, m, mine) {
  const row = el("div", "msg " + (m.from_bot ? "bot" : mine ? "mine" : "other"));
  row.dataset.mid = String(m.id);
  if (pane.replyTo && pane.replyTo.id === m.id) row.classList.add("replying");
  const bubble = el("div", "bubble");
  row.appendChild(bubble);
  if (!m.from_bot && !mine && pane.key === "group") bubble.appendChild(el("div", "sender", m.from_name));
  if (m.reply_to) {
    const quote = el("div", "quote");
    quote.append(el("b", null, m.reply_to.name), el("span", null, m.reply_to.snippet));
    quote.addEventListener("click", (event) => {
      event.stopPropagation();
      const target = pane.list.querySelector(`.msg[data-mid="${m.reply_to.id}"]`);
      if (target) {
        target.scrollIntoView({ block: "center", behavior: "smooth" });
        target.classList.remove("changed");
        void target.offsetWidth;
        target.classList.add("changed");
      }
    });
    bubble.appendChild(quote);
  }
  if (m.photo) {
    const img = el("img", "photo");
    img.src = "/api/file/" + encodeURIComponent(m.photo);
    img.alt = LABELS.photo;
    if (m.photo_size) {
      img.width = 240;
      img.height = Math.round((240 * m.photo_size[1]) / Math.max(1, m.photo_size[0]));
    }
    img.addEventListener("load", () => { if (pane.stick) scrollDown(pane); });
    bubble.appendChild(img);
  }
  if (m.location) {
    const loc = el("div", "location");
    const title = m.venue ? m.venue.title : "📍 " + m.location.lat.toFixed(5) + ", " + m.location.lon.toFixed(5);
    loc.appendChild(el("div", "loc-title", m.venue ? "📍 " + title : title));
    if (m.venue && m.venue.address && m.venue.address !== m.venue.title) {
      loc.appendChild(el("div", "loc-address", m.venue.address));
    }
    if (m.venue) loc.appendChild(el("div", "loc-coords", m.location.lat.toFixed(5) + ", " + m.location.lon.toFixed(5)));
    if (m.location.near) {
      loc.appendChild(el("div", "loc-near",
        LABELS.near + m.location.near.zh + " · " + m.location.near.en + " (" + m.location.near.m + " m)"));
    }
    bubble.appendChild(loc);
  }
  if (m.contact) bubble.appendChild(el("div", "contact", "👤 " + m.contact.name + " · " + m.contact.phone));
  if (["voice", "video", "document", "sticker"].includes(m.kind)) bubble.appendChild(el("div", "media", LABELS[m.kind]));
  if (m.text) {
    const text = el("div", "text");
    text.appendChild(richText(m.text, m.entities, (command) => sendText(pane, command)));
    bubble.appendChild(text);
  }
  const meta = el("div", "meta", (m.edited ? LABELS.edited + " · " : "") + clock(m.date));
  bubble.appendChild(meta);
  if (m.buttons && m.buttons.length) row.appendChild(inlineKeyboard(pane, m));
  bubble.addEventListener("click", (event) => {
    if (event.target.closest("a, button, .spoiler, .cmd, .quote")) return;
    setReply(pane, pane.replyTo && pane.replyTo.id === m.id ? null : { id: m.id, snippet: snippet(m) });
  });
  bubble.title = LABELS.replyHint;
  return row;
}

function snippet(m) {
  if (m.text) return m.text.trim().split("\n")[0].slice(0, 60);
  if (m.photo) return "📷 " + LABELS.photo;
  if (m.venue) return "📍 " + m.venue.title;
  if (m.location) return "📍 " + m.location.lat.toFixed(4) + ", " + m.location.lon.toFixed(4);
  if (m.contact) return "👤 " + LABELS.contact;
  return "…";
}

function clock(seconds) {
  try {
    return new Date(seconds * 1000).toLocaleTimeString("zh-CN",
      { timeZone: S.tz, hour: "2-digit", minute: "2-digit", hour12: false });
  } catch (error) {
    return new Date(seconds * 1000).toLocaleTimeString();
  }
}

function safeUrl(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}

function link(url, text) {
  const a = el("a", null, text);
  a.href = url;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  return a;
}

// Telegram entities → DOM. Offsets are UTF-16 code units, as are JS string indices.
function richText(text, entities, onCommand) {
  const root = document.createDocumentFragment();
  const list = (entities || [])
    .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  const stack = [{ node: root, end: text.length }];
  let pos = 0;
  const emit = (node, upto) => {
    if (upto > pos) {
      node.appendChild(document.createTextNode(text.slice(pos, upto)));
      pos = upto;
    }
  };
  for (const entity of list) {
    const start = Math.max(entity.offset, pos);
    if (start >= text.length) break;
    while (stack.length > 1 && stack[stack.length - 1].end <= start) {
      const done = stack.pop();
      emit(done.node, done.end);
    }
    const top = stack[stack.length - 1];
    emit(top.node, start);
    const end = Math.min(entity.offset + entity.length, top.end);
    if (end <= start) continue;
    const node = entityNode(entity, text.slice(start, end), onCommand);
    top.node.appendChild(node);
    stack.push({ node, end });
  }
  while (stack.length) {
    const done = stack.pop();
    emit(done.node, done.end);
  }
  return root;
}

function entityNode(entity, segment, onCommand) {
  const simple = {
    bold: "strong", italic: "em", underline: "u", strikethrough: "s", code: "code", pre: "pre",
    blockquote: "blockquote", expandable_blockquote: "blockquote",
  };
  if (simple[entity.type]) return el(simple[entity.type]);
  if (entity.type === "text_link" || entity.type === "url") {
    const url = safeUrl(entity.type === "url" ? segment : entity.url);
    if (url) {
      const a = link(url, null);
      a.className = "link";
      return a;
    }
    return el("span", "link-unsafe");
  }
  if (entity.type === "spoiler") {
    const span = el("span", "spoiler");
    span.addEventListener("click", () => span.classList.toggle("revealed"));
    return span;
  }
  if (entity.type === "bot_command") {
    const span = el("span", "cmd");
    span.addEventListener("click", () => onCommand(segment));
    return span;
  }
  return el("span", "entity-" + String(entity.type).replace(/[^a-z_]/g, ""));
}

function inlineKeyboard(pane, m) {
  const box = el("div", "ikb");
  m.buttons.forEach((buttons, r) => {
    const row = el("div", "ikb-row");
    buttons.forEach((b, c) => {
      if (b.type === "url" && b.url) {
        const a = link(b.url, b.text + " ↗");
        a.className = "ikb-btn url";
        row.appendChild(a);
        return;
      }
      const button = el("button", "ikb-btn", b.text);
      button.type = "button";
      if (b.type !== "callback") {
        button.addEventListener("click", () => toast(pane, LABELS.unsupported));
      } else {
        button.addEventListener("click", () => press(pane, m, r, c, b, button));
      }
      row.appendChild(button);
    });
    box.appendChild(row);
  });
  return box;
}

async function press(pane, m, row, col, b, button) {
  button.disabled = true;
  button.classList.add("busy");
  try {
    const result = await api("/api/press", {
      user: pane.userId, chat: pane.chatId, message: m.id, row, col, text: b.text,
    });
    const answer = result.answer;
    if (!result.answered) toast(pane, LABELS.noAnswer);
    else if (answer.url && safeUrl(answer.url)) window.open(answer.url, "_blank", "noopener");
    else if (answer.text && answer.show_alert) alertBox(answer.text);
    else if (answer.text) toast(pane, answer.text);
  } catch (error) {
    toast(pane, LABELS.error + error.message);
  } finally {
    button.disabled = false;
    button.classList.remove("busy");
  }
}

function renderKeyboard(pane, keyboard) {
  const box = $(pane.el, ".kbd");
  const toggle = $(pane.el, ".kbd-toggle");
  const sig = JSON.stringify(keyboard);
  if (sig !== pane.kbdSig) {
    pane.kbdSig = sig;
    pane.kbdHidden = false;
  }
  pane.keyboard = keyboard;
  const input = $(pane.el, ".input");
  input.placeholder = (keyboard && keyboard.placeholder) || LABELS.placeholder;
  toggle.hidden = !keyboard;
  box.replaceChildren();
  box.hidden = !keyboard || pane.kbdHidden;
  if (!keyboard) return;
  for (const buttons of keyboard.rows) {
    const row = el("div", "kbd-row");
    for (const b of buttons) {
      const button = el("button", "kbd-btn", b.text);
      button.type = "button";
      button.dataset.request = b.request || "";
      button.addEventListener("click", () => keyboardButton(pane, b));
      row.appendChild(button);
    }
    box.appendChild(row);
  }
}

function keyboardButton(pane, b) {
  if (pane.keyboard && pane.keyboard.one_time) {
    pane.kbdHidden = true;
    $(pane.el, ".kbd").hidden = true;
  }
  if (b.request === "location") openPlaces(pane);
  else if (b.request === "contact") send(pane, { kind: "contact" });
  else if (b.request) toast(pane, LABELS.unsupported);
  else sendText(pane, b.text);
}

// ---------------------------------------------------------------- acting
function setReply(pane, target) {
  pane.replyTo = target;
  const bar = $(pane.el, ".replybar");
  bar.hidden = !target;
  $(bar, ".replybar-text").textContent = target ? LABELS.replyingTo + target.snippet : "";
  pane.list.querySelectorAll(".msg.replying").forEach((n) => n.classList.remove("replying"));
  if (target) {
    const row = pane.list.querySelector(`.msg[data-mid="${target.id}"]`);
    if (row) row.classList.add("replying");
    $(pane.el, ".input").focus();
  }
}

async function send(pane, payload) {
  if (pane.userId === null) return;
  const body = { user: pane.userId, chat: pane.chatId, ...payload };
  if (pane.replyTo && payload.kind !== "venue") body.reply_to = pane.replyTo.id;
  try {
    await api("/api/send", body);
    setReply(pane, null);
  } catch (error) {
    toast(pane, LABELS.error + error.message);
  }
}

function sendText(pane, text) {
  return send(pane, { kind: "text", text });
}

function wirePane(pane) {
  const node = pane.el;
  const form = $(node, ".composer");
  const input = $(node, ".input");
  const attach = $(node, ".attach-menu");
  const commands = $(node, ".commands-menu");
  pane.list.addEventListener("scroll", () => {
    const list = pane.list;
    pane.stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  });
  // The messages' box shrinks when a reply keyboard, a menu or the reply bar opens (and is
  // 0 × 0 while its tab is hidden): a chat that was at its end stays at its end.
  new ResizeObserver(() => { if (pane.stick) scrollDown(pane); }).observe(pane.list);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    sendText(pane, text);
  });
  $(node, ".replybar-cancel").addEventListener("click", () => setReply(pane, null));
  $(node, ".attach-toggle").addEventListener("click", () => {
    commands.hidden = true;
    attach.hidden = !attach.hidden;
  });
  $(node, ".commands-toggle").addEventListener("click", () => {
    attach.hidden = true;
    commands.replaceChildren();
    for (const c of pane.commands || []) {
      const button = el("button", "command");
      button.type = "button";
      button.append(el("b", null, "/" + c.command), el("span", null, c.description));
      button.addEventListener("click", () => {
        commands.hidden = true;
        sendText(pane, "/" + c.command);
      });
      commands.appendChild(button);
    }
    commands.hidden = !commands.hidden || !(pane.commands || []).length;
  });
  $(node, ".kbd-toggle").addEventListener("click", () => {
    pane.kbdHidden = !pane.kbdHidden;
    $(node, ".kbd").hidden = pane.kbdHidden || !pane.keyboard;
  });
  attach.addEventListener("click", (event) => {
    const button = event.target.closest("[data-attach]");
    if (!button) return;
    attach.hidden = true;
    const what = button.dataset.attach;
    if (what === "location") openPlaces(pane);
    else if (what === "contact") send(pane, { kind: "contact" });
    else if (what === "photo") {
      // A neutral scene and the time only: nothing in the picture says who sent it.
      send(pane, { kind: "photo", data: samplePhoto(clock(Date.now() / 1000)) });
    }
  });
}

// A small JPEG drawn here, so nothing is fetched: a night street with a bench, and the label
// (the time). Never a name: the picture reaches the patrol group.
function samplePhoto(label) {
  const canvas = document.createElement("canvas");
  canvas.width = 320;
  canvas.height = 240;
  const g = canvas.getContext("2d");
  const sky = g.createLinearGradient(0, 0, 0, 240);
  sky.addColorStop(0, "#0b1d3a");
  sky.addColorStop(1, "#2a4468");
  g.fillStyle = sky;
  g.fillRect(0, 0, 320, 240);
  const glow = g.createRadialGradient(250, 70, 4, 250, 70, 90);
  glow.addColorStop(0, "rgba(255,214,130,0.9)");
  glow.addColorStop(1, "rgba(255,214,130,0)");
  g.fillStyle = glow;
  g.fillRect(150, 0, 170, 180);
  g.fillStyle = "#3b3b3b";
  g.fillRect(246, 70, 6, 120);
  g.fillStyle = "#555e66";
  g.fillRect(0, 190, 320, 50);
  g.fillStyle = "#6b4a2f";
  g.fillRect(60, 150, 150, 10);
  g.fillRect(70, 160, 8, 30);
  g.fillRect(192, 160, 8, 30);
  g.fillStyle = "#8c2f39";
  g.beginPath();
  g.ellipse(135, 143, 55, 10, 0, 0, Math.PI * 2);
  g.fill();
  g.fillStyle = "#e0b894";
  g.beginPath();
  g.arc(82, 140, 8, 0, Math.PI * 2);
  g.fill();
  g.fillStyle = "rgba(255,255,255,0.9)";
  g.font = "bold 18px sans-serif";
  g.fillText(LABELS.samplePhoto, 12, 28);
  g.font = "14px sans-serif";
  g.fillText(label || "", 12, 50);
  return canvas.toDataURL("image/jpeg", 0.82);
}

// ---------------------------------------------------------------- dialogs and toasts
function openPlaces(pane) {
  const dialog = document.getElementById("place-dialog");
  S.dialogPane = pane;
  const who = person(pane.userId);
  $(dialog, ".place-for").textContent = LABELS.placeFor + (who ? who.name : "");
  const filter = $(dialog, ".place-filter");
  filter.value = "";
  fillPlaces("");
  dialog.showModal();
  filter.focus();
}

function fillPlaces(query) {
  const list = $(document.getElementById("place-dialog"), ".place-list");
  const q = query.trim().toLowerCase();
  list.replaceChildren();
  for (const p of S.state.places) {
    if (q && !(p.zh.includes(q) || p.en.toLowerCase().includes(q) || p.key.includes(q))) continue;
    const item = el("li");
    const button = el("button", "place");
    button.type = "button";
    button.dataset.place = p.key;
    button.append(el("b", null, p.zh), el("span", null, p.en));
    button.addEventListener("click", () => choosePlace({ place: p.key }));
    item.appendChild(button);
    list.appendChild(item);
  }
}

function choosePlace(where) {
  const dialog = document.getElementById("place-dialog");
  const venue = $(dialog, ".venue").checked;
  dialog.close();
  if (S.dialogPane) send(S.dialogPane, { kind: venue ? "venue" : "location", ...where });
}

function wireDialogs() {
  const dialog = document.getElementById("place-dialog");
  applyLabels(dialog);
  $(dialog, ".place-filter").addEventListener("input", (event) => fillPlaces(event.target.value));
  $(dialog, ".send-coords").addEventListener("click", () => {
    const lat = Number($(dialog, ".lat").value);
    const lon = Number($(dialog, ".lon").value);
    choosePlace({ lat, lon });
  });
}

function toast(pane, text) {
  const box = $(pane.el, ".toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(pane.toastTimer);
  pane.toastTimer = setTimeout(() => { box.hidden = true; }, 3500);
}

function alertBox(text) {
  const dialog = document.getElementById("alert-dialog");
  $(dialog, ".alert-text").textContent = text;
  dialog.showModal();
}

// ---------------------------------------------------------------- go
document.addEventListener("DOMContentLoaded", async () => {
  applyLabels(document.body);
  document.title = LABELS.title;
  buildPanes();
  wireDialogs();
  try {
    await loadState();
  } catch (error) {
    document.getElementById("status").textContent = LABELS.error + error.message;
  }
  connect();
});
