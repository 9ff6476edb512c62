// Simulate: a chat window on the built-in simulator. Pick a platform, a group or a private
// chat and a virtual sender, type a message; it is sent with POST /api/v1/simulate (wait_ms 0)
// and the replies arrive over the event stream (`simulator.reply`, the app's name from
// `reply.sent`). Each sent message shows which apps got it, and links to its pages.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { CHAT_KINDS, deliveryBadge, messageBadge, messagePath, whyPath } from "../parts/message-bits.js";

export const title = N_("panel.simulate.title");

// Virtual senders: names in the languages the panel speaks, ids like a platform's.
const SENDERS = [
  { id: "10001", name: "Alice" },
  { id: "10002", name: "Bob" },
  { id: "10003", name: "陈静" },
  { id: "10004", name: "さくら" },
];
const REFRESH_MS = 250;
const KEEP_EARLY_MS = 10_000; // a reply may beat its message's POST answer to the browser
const MAX_ENTRIES = 200; // the chat keeps its latest messages; older ones leave the window

export function mount(root, ctx) {
  const { t, api, live, router, format, i18n } = ctx;
  let stopped = false;
  let lastConversation = "";
  const entries = new Map(); // message id → {foot, pmid, timer}
  const byPmid = new Map(); // platform_message_id → message id
  const replies = new Map(); // reply id → {who}
  const replyApps = new Map(); // reply id → app name heard before its reply showed
  let early = []; // simulator.reply events not yet matched to a message of this window

  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const controls = {};
  const field = (name, label, control) => {
    control.id = uid(name);
    controls[name] = control;
    return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
  };
  const platforms = h("datalist", { id: uid("platforms") }, h("option", { value: "simulator" }));
  const kindName = uid("kind"); // one name: the two radios are one choice
  const chatKind = h(
    "fieldset",
    { class: "segmented" },
    h("legend", {}, t("panel.simulate.chat")),
    ["group", "private"].map((kind) =>
      h("label", {}, h("input", { type: "radio", name: kindName, value: kind, checked: kind === "group" }), h("span", {}, t(CHAT_KINDS[kind]))),
    ),
  );
  const groupField = field("group", t("panel.simulate.group_id"), h("input", { class: "input", maxlength: "128", value: "1000", autocomplete: "off" }));
  const senderSelect = h(
    "select",
    { class: "select" },
    SENDERS.map((sender, i) => h("option", { value: String(i) }, `${sender.name} (${sender.id})`)),
  );
  const localeSelect = h("select", { class: "select" }, h("option", { value: "" }, t("panel.simulate.locale_auto")));
  const settings = h(
    "section",
    { class: "card sim-settings", "aria-label": t("panel.simulate.settings") },
    field("platform", t("panel.messages.platform"), h("input", { class: "input", maxlength: "64", value: "simulator", list: platforms.id, autocomplete: "off" })),
    platforms,
    chatKind,
    groupField,
    field("sender", t("panel.simulate.sender"), senderSelect),
    field("locale", t("panel.simulate.locale"), localeSelect),
    h("p", { class: "muted small" }, t("panel.simulate.locale_note")),
  );
  const log = h("ol", { class: "chat-log", role: "log", "aria-label": t("panel.simulate.conversation") });
  const empty = h("li", { class: "chat-empty muted" }, t("panel.simulate.empty"));
  log.append(empty);
  const textId = uid("text");
  const text = h("textarea", { id: textId, class: "input chat-input", rows: "2", maxlength: "10000", placeholder: t("panel.simulate.placeholder") });
  const send = h("button", { type: "submit", class: "button button-primary" }, t("panel.simulate.send"));
  const composer = h("form", { class: "chat-composer" }, h("label", { for: textId, class: "visually-hidden" }, t("panel.simulate.message")), text, send);
  const header = h("p", { class: "chat-header muted small" });
  root.append(
    h("div", { class: "page-head" }, h("h1", {}, t("panel.simulate.title")), h("a", { href: router.href("/why") }, t("panel.simulate.typed_why"))),
    h("div", { class: "sim" }, settings, h("section", { class: "card chat" }, header, log, problem, composer)),
  );

  function fail(error) {
    if (stopped) return;
    problem.textContent = error.message || t("panel.shell.network_error");
    problem.hidden = false;
  }

  function conversation() {
    const kind = chatKind.querySelector("input:checked").value;
    const sender = SENDERS[Number(senderSelect.value)];
    const platform = controls.platform.value.trim() || "simulator";
    const chat = kind === "group" ? { type: "group", id: controls.group.value.trim() } : null;
    return { kind, sender, platform, chat, locale: localeSelect.value || null };
  }

  function describe(talk) {
    const where = talk.chat ? t("panel.simulate.in_group", { id: talk.chat.id }) : t("panel.simulate.in_private", { name: talk.sender.name });
    return `${talk.platform} · ${where}`;
  }

  function updateHeader() {
    const talk = conversation();
    header.textContent = t("panel.simulate.speaking_as", { where: describe(talk), name: talk.sender.name });
    groupField.hidden = talk.kind !== "group";
  }

  function append(node) {
    empty.remove();
    log.append(node);
    while (log.children.length > MAX_ENTRIES) log.firstElementChild.remove();
    const near = log.scrollHeight - log.scrollTop - log.clientHeight < 160;
    if (near || node.classList.contains("bubble-out")) log.scrollTop = log.scrollHeight;
  }

  function addReply(event) {
    if (replies.has(event.id)) return;
    const who = h("span", { class: "bubble-who" }, replyApps.get(event.id) || t("panel.simulate.an_app"));
    replyApps.delete(event.id);
    replies.set(event.id, { who });
    if (replies.size > MAX_ENTRIES * 4) replies.delete(replies.keys().next().value);
    append(h("li", { class: "bubble bubble-in", dataset: { reply: event.id, message: event.message_id || "" } }, h("div", { class: "bubble-meta" }, who, ` · ${format.time(event.at_ms || Date.now())}`), h("div", { class: "bubble-text" }, event.content)));
  }

  function renderFoot(entry, detail) {
    const latest = new Map();
    for (const delivery of detail.deliveries) latest.set(delivery.app, delivery); // oldest first: the last wins
    const got = [...latest.values()].map((delivery) => h("span", { class: "sim-delivery", dataset: { app: delivery.app } }, h("a", { href: router.href(whyPath(detail.id, delivery.app)) }, delivery.app), " ", deliveryBadge(t, delivery.status)));
    entry.deliveries.replaceChildren(
      messageBadge(t, detail.status),
      " ",
      got.length ? h("span", { class: "sim-got" }, h("span", { class: "muted" }, t("panel.simulate.got_it")), " ", got) : detail.status === "unrouted" ? h("span", { class: "muted" }, t("panel.simulate.nobody")) : "",
    );
    for (const reply of detail.replies) {
      if (reply.app) {
        const shown = replies.get(reply.id);
        if (shown) shown.who.textContent = reply.app;
      }
      if (!replies.has(reply.id)) addReply({ id: reply.id, content: reply.content, at_ms: reply.done_ms || reply.created_ms, message_id: detail.id });
    }
  }

  async function refresh(id) {
    const entry = entries.get(id);
    if (!entry) return;
    entry.timer = 0;
    const detail = await api.get(`/api/v1/messages/${encodeURIComponent(id)}`);
    if (!stopped) renderFoot(entry, detail);
  }

  function refreshSoon(id) {
    const entry = entries.get(id);
    if (!entry || entry.timer) return;
    entry.timer = setTimeout(() => refresh(id).catch(fail), REFRESH_MS);
  }

  function matchEarly() {
    const now = Date.now();
    const left = [];
    for (const event of early) {
      const id = event.message_id || byPmid.get(event.reply_to);
      if (id && entries.has(id)) addReply(event);
      else if (now - event.seen < KEEP_EARLY_MS) left.push(event);
    }
    early = left;
  }

  async function submit() {
    const content = text.value;
    if (!content.trim()) return;
    const talk = conversation();
    problem.hidden = true;
    const body = { content, sender: talk.sender, wait_ms: 0 };
    if (talk.chat) body.chat = talk.chat;
    if (talk.platform !== "simulator") body.platform = talk.platform;
    if (talk.locale) body.locale = talk.locale;
    send.disabled = true;
    let answer;
    try {
      answer = await api.post("/api/v1/simulate", body);
    } finally {
      send.disabled = false;
    }
    if (stopped) return;
    text.value = "";
    const key = describe(talk);
    if (key !== lastConversation) {
      lastConversation = key;
      append(h("li", { class: "chat-divider muted small" }, key));
    }
    const deliveries = h("div", { class: "bubble-deliveries small" }, h("span", { class: "muted" }, t("panel.simulate.routing")));
    const foot = h(
      "div",
      { class: "bubble-foot small" },
      h("a", { href: router.href(messagePath(answer.id)) }, t("panel.simulate.timeline")),
      h("a", { href: router.href(whyPath(answer.id)) }, t("panel.simulate.why")),
    );
    const entry = { deliveries, pmid: answer.platform_message_id, timer: 0 };
    entries.set(answer.id, entry);
    byPmid.set(answer.platform_message_id, answer.id);
    if (entries.size > MAX_ENTRIES) {
      const [oldest, gone] = entries.entries().next().value;
      clearTimeout(gone.timer);
      entries.delete(oldest);
      byPmid.delete(gone.pmid);
    }
    append(h("li", { class: "bubble bubble-out", dataset: { id: answer.id } }, h("div", { class: "bubble-meta" }, h("span", { class: "bubble-who" }, talk.sender.name), ` · ${format.time(Date.now())}`), h("div", { class: "bubble-text" }, content), deliveries, foot));
    matchEarly();
    refreshSoon(answer.id);
    text.focus();
  }

  function onEvents(events) {
    for (const { topic, data } of events) {
      if (topic === "simulator.reply") {
        const id = data.message_id || byPmid.get(data.reply_to);
        if (id && entries.has(id)) addReply(data);
        else if (data.reply_to) early.push({ ...data, seen: Date.now() });
      } else if (topic === "reply.sent" || topic === "reply.failed") {
        const shown = replies.get(data.id);
        if (shown && data.app) shown.who.textContent = data.app;
        else if (data.app && entries.has(data.message_id)) replyApps.set(data.id, data.app);
        if (entries.has(data.message_id)) refreshSoon(data.message_id);
      } else if (topic.startsWith("delivery.")) {
        refreshSoon(data.message_id);
      } else {
        refreshSoon(data.id); // message.settled, message.unrouted
      }
    }
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submit().catch(fail);
  });
  text.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter breaks the line; never while an input method composes (CJK).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  settings.addEventListener("input", updateHeader);
  settings.addEventListener("change", updateHeader);
  updateHeader();

  (async () => {
    const [locales, drivers] = await Promise.all([api.get("/api/v1/i18n/locales").catch(() => null), api.get("/api/v1/drivers")]);
    if (stopped) return;
    const offered = locales ? locales.items.map((item) => [item.locale, item.display_name]) : i18n.locales.map((item) => [item.locale, item.name]);
    localeSelect.append(...offered.map(([locale, name]) => h("option", { value: locale }, `${name} (${locale})`)));
    const known = new Set(drivers.items.map((item) => item.platform));
    known.delete("simulator");
    platforms.append(...[...known].sort().map((platform) => h("option", { value: platform })));
  })().catch(() => {}); // suggestions only

  const unsubscribe = live.subscribe(["simulator.reply", "reply", "delivery", "message.settled", "message.unrouted"], onEvents, {
    onReset: () => {
      for (const id of entries.keys()) refreshSoon(id); // what the stream missed, from the rows
    },
  });
  return () => {
    stopped = true;
    for (const entry of entries.values()) clearTimeout(entry.timer);
    unsubscribe();
  };
}
