// Messages: search by time, chat, sender, app, status and platform, newest first, a page at a
// time with the API's cursor. The filters live in the address, so a search can be linked;
// new messages are counted while the page is open and shown on request, not pushed into it;
// at 100 messages a second the count and the badges are redrawn four times a second.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { coalesce } from "../parts/coalesce.js";
import { MESSAGE_STATUSES, chatText, kindBadge, messageBadge, messagePath, senderText, whyPath } from "../parts/message-bits.js";

export const title = N_("panel.messages.title");

const PAGE_SIZE = 50;
const FIELDS = ["chat", "sender", "app", "platform"];

/** epoch ms → the value of a datetime-local input (local time). */
function localInput(ms) {
  if (!ms) return "";
  const date = new Date(Number(ms));
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function mount(root, ctx) {
  const { t, api, live, router, format, query } = ctx;
  let stopped = false;
  let cursors = [null]; // the cursor of each page seen, so that "newer" can go back
  let page = null; // the answer shown
  let fresh = 0; // messages received since the page was loaded
  const shown = new Map(); // id → status badge cell, to follow a status while it is on screen
  const settled = new Map(); // id → status for the rows on screen, until the next redraw

  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const controls = {};
  const field = (name, label, control) => {
    control.id = uid(name);
    controls[name] = control;
    return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
  };
  const appList = h("datalist", { id: uid("apps") });
  const platformList = h("datalist", { id: uid("platforms") });
  const form = h(
    "form",
    { class: "filters", role: "search" },
    field("from", t("panel.messages.from"), h("input", { class: "input", type: "datetime-local", value: localInput(query.get("from")) })),
    field("to", t("panel.messages.to"), h("input", { class: "input", type: "datetime-local", value: localInput(query.get("to")) })),
    field("chat", t("panel.messages.chat"), h("input", { class: "input", maxlength: "128", value: query.get("chat") || "", autocomplete: "off" })),
    field("sender", t("panel.messages.sender"), h("input", { class: "input", maxlength: "128", value: query.get("sender") || "", autocomplete: "off" })),
    field("app", t("panel.messages.app"), h("input", { class: "input", maxlength: "64", value: query.get("app") || "", list: appList.id, autocomplete: "off" })),
    field(
      "status",
      t("panel.messages.status"),
      h(
        "select",
        { class: "select" },
        h("option", { value: "" }, t("panel.messages.any_status")),
        Object.entries(MESSAGE_STATUSES).map(([status, key]) => h("option", { value: status, selected: query.get("status") === status }, t(key))),
      ),
    ),
    field("platform", t("panel.messages.platform"), h("input", { class: "input", maxlength: "64", value: query.get("platform") || "", list: platformList.id, autocomplete: "off" })),
    h(
      "div",
      { class: "field field-end" },
      h("div", { class: "button-row" }, h("button", { type: "button", class: "button", onclick: () => router.go("/messages") }, t("panel.messages.clear")), h("button", { type: "submit", class: "button button-primary" }, t("panel.messages.search"))),
    ),
    appList,
    platformList,
  );
  const heads = [N_("panel.messages.col_time"), N_("panel.messages.col_chat"), N_("panel.messages.col_sender"), N_("panel.messages.col_content"), N_("panel.messages.col_platform"), N_("panel.messages.col_status"), N_("panel.apps.col_actions")];
  const tbody = h("tbody");
  const newer = h("button", { type: "button", class: "button button-small" }, t("panel.messages.newer"));
  const older = h("button", { type: "button", class: "button button-small" }, t("panel.messages.older"));
  const where = h("span", { class: "muted small" });
  const arrivals = h("button", { type: "button", class: "button button-small arrivals", hidden: true });
  root.append(
    h("div", { class: "page-head" }, h("h1", {}, t("panel.messages.title")), arrivals),
    h("section", { class: "card" }, form),
    problem,
    h(
      "section",
      { class: "card" },
      h("div", { class: "table-wrap" }, h("table", { class: "table table-cards messages-table" }, h("caption", { class: "visually-hidden" }, t("panel.messages.title")), h("thead", {}, h("tr", {}, heads.map((key) => h("th", { scope: "col" }, t(key))))), tbody)),
      h("div", { class: "pager" }, newer, where, older),
    ),
  );

  function fail(error) {
    if (stopped || error.name === "AbortError") return;
    problem.textContent = error.message || t("panel.shell.network_error");
    problem.hidden = false;
  }

  function filters() {
    const wanted = {};
    for (const name of ["from", "to"]) if (query.get(name)) wanted[name] = query.get(name);
    for (const name of [...FIELDS, "status"]) if (query.get(name)) wanted[name] = query.get(name);
    return wanted;
  }

  function row(message) {
    const link = router.href(messagePath(message.id));
    const status = h("td", { "data-label": t(heads[5]) }, messageBadge(t, message.status));
    shown.set(message.id, status);
    return h(
      "tr",
      { dataset: { id: message.id } },
      h("td", { "data-label": t(heads[0]) }, h("a", { href: link, class: "nowrap" }, format.dateTime(message.received_ms))),
      h("td", { "data-label": t(heads[1]), class: "clip", title: chatText(message.chat) }, chatText(message.chat)),
      h("td", { "data-label": t(heads[2]), class: "clip", title: senderText(message.sender) }, senderText(message.sender)),
      h("td", { "data-label": t(heads[3]), class: "clip content-cell", title: message.content }, kindBadge(message.kind), h("a", { href: link }, message.content || (message.kind && message.kind !== "message" ? "" : t("panel.messages.no_text")))),
      h("td", { "data-label": t(heads[4]) }, message.platform),
      status,
      h("td", { "data-label": t(heads[6]) }, h("a", { href: router.href(whyPath(message.id, query.get("app"))), class: "button button-small" }, t("panel.messages.why"))),
    );
  }

  function render() {
    shown.clear();
    const items = page?.items || [];
    tbody.replaceChildren(...(items.length ? items.map(row) : [h("tr", {}, h("td", { colspan: heads.length, class: "empty" }, Object.keys(filters()).length ? t("panel.messages.no_match") : t("panel.messages.none")))]));
    const number = cursors.length;
    where.textContent = items.length ? t("panel.messages.page", { page: number, count: items.length }) : "";
    newer.disabled = number <= 1;
    older.disabled = !page?.next_cursor;
    renderArrivals();
  }

  function renderArrivals() {
    arrivals.hidden = !(fresh > 0 && cursors.length === 1);
    arrivals.textContent = t("panel.messages.arrived", { count: fresh });
    for (const [id, status] of settled) shown.get(id)?.replaceChildren(messageBadge(t, status));
    settled.clear();
  }
  const drawSoon = coalesce(renderArrivals, 250);

  async function load() {
    const cursor = cursors[cursors.length - 1];
    const answer = await api.get("/api/v1/messages", { ...filters(), limit: PAGE_SIZE, cursor });
    if (stopped) return;
    page = answer;
    fresh = 0;
    problem.hidden = true;
    render();
  }

  async function hints() {
    const [names, drivers] = await Promise.all([api.get("/api/v1/app-names"), api.get("/api/v1/drivers")]);
    if (stopped) return;
    appList.replaceChildren(...names.items.map((item) => h("option", { value: item.name })));
    platformList.replaceChildren(...[...new Set(drivers.items.map((item) => item.platform))].map((platform) => h("option", { value: platform })));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const name of ["from", "to"]) {
      const value = controls[name].value;
      if (value) params.set(name, String(new Date(value).getTime()));
    }
    for (const name of FIELDS) if (controls[name].value.trim()) params.set(name, controls[name].value.trim());
    if (controls.status.value) params.set("status", controls.status.value);
    const search = params.toString();
    router.go(search ? `/messages?${search}` : "/messages");
  });
  older.addEventListener("click", () => {
    cursors.push(page.next_cursor);
    load().catch(fail);
  });
  newer.addEventListener("click", () => {
    cursors.pop();
    load().catch(fail);
  });
  arrivals.addEventListener("click", () => {
    cursors = [null];
    load().catch(fail);
  });

  function onEvents(events) {
    let changed = false;
    for (const { topic, data } of events) {
      if (topic === "message.received") {
        fresh += 1;
        changed = true;
      } else if ((topic === "message.settled" || topic === "message.unrouted") && shown.has(data.id)) {
        settled.set(data.id, data.status || "unrouted"); // bounded: only the rows on screen
        changed = true;
      }
    }
    if (changed) drawSoon(); // the rows stay put: no table redrawn per message
  }

  const unsubscribe = live.subscribe(["message.received", "message.settled", "message.unrouted"], onEvents, { onReset: () => load().catch(fail) });
  load().catch(fail);
  hints().catch(() => {}); // suggestions only: the search works without them
  return () => {
    stopped = true;
    drawSoon.cancel();
    unsubscribe();
  };
}
