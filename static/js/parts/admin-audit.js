// The audit log: who did what to what, when, from where and how it ended — filtered by actor,
// action, target and time, newest first, older pages on demand (the Master's cursor).
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";

const PAGE_SIZE = 50;
const COLS = [
  N_("panel.audit.col_time"),
  N_("panel.audit.col_actor"),
  N_("panel.audit.col_action"),
  N_("panel.audit.col_target"),
  N_("panel.audit.col_address"),
  N_("panel.audit.col_result"),
];
// Suggestions for the action filter; any operation id works.
const ACTIONS = [
  "login",
  "logout",
  "change_password",
  "create_account",
  "disable_account",
  "enable_account",
  "create_token",
  "delete_token",
  "update_settings",
  "reset_setting",
  "put_text",
  "delete_text",
  "pause_app",
  "resume_app",
  "kick_app",
  "simulate",
];

function field(label, control) {
  const id = uid("audit");
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

export function mount(root, ctx) {
  const { t, api, format } = ctx;
  let stopped = false;
  let cursor = null;
  let query = {};
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const status = h("p", { class: "muted small", role: "status" });
  const tbody = h("tbody");
  const listId = uid("actions");
  const actor = h("input", { class: "input", autocomplete: "off", maxlength: "100", value: ctx.query.get("actor") || "" });
  const action = h("input", { class: "input", autocomplete: "off", maxlength: "64", list: listId, value: ctx.query.get("action") || "" });
  const target = h("input", { class: "input", autocomplete: "off", maxlength: "300", value: ctx.query.get("target") || "" });
  const from = h("input", { class: "input", type: "datetime-local", step: "1" });
  const to = h("input", { class: "input", type: "datetime-local", step: "1" });
  const older = h("button", { type: "button", class: "button", hidden: true }, t("panel.audit.older"));
  const form = h(
    "form",
    { class: "toolbar" },
    field(t("panel.audit.actor"), actor),
    field(t("panel.audit.action"), action),
    h("datalist", { id: listId }, ACTIONS.map((value) => h("option", { value }))),
    field(t("panel.audit.target"), target),
    field(t("panel.audit.from"), from),
    field(t("panel.audit.to"), to),
    h("div", { class: "toolbar-buttons" }, h("button", { type: "submit", class: "button button-primary" }, t("panel.audit.find"))),
  );

  const epoch = (input) => (input.value ? new Date(input.value).getTime() : undefined);

  function row(entry) {
    const who = entry.actor.name || entry.actor.id || "–";
    const result = h("span", { class: ["badge", entry.result === "ok" ? "badge-scheduling" : "badge-away"] }, entry.result);
    const detail = Object.keys(entry.detail || {}).length ? JSON.stringify(entry.detail) : "";
    const cells = [
      format.dateTime(entry.time_ms),
      [h("span", { class: "strong" }, who), " ", h("span", { class: "badge" }, entry.actor.kind)],
      h("span", { class: "mono" }, entry.action),
      h("span", { class: "mono" }, entry.target || "–"),
      entry.address || "–",
      result,
    ];
    const tr = h("tr", { dataset: { action: entry.action }, title: detail }, cells.map((cell, i) => h("td", { "data-label": t(COLS[i]) }, h("div", { class: "cell" }, cell))));
    return tr;
  }

  async function load(more = false) {
    problem.hidden = true;
    if (!more) {
      query = { actor: actor.value.trim(), action: action.value.trim(), target: target.value.trim(), from: epoch(from), to: epoch(to) };
      cursor = null;
    }
    older.disabled = true;
    try {
      const page = await api.get("/api/v1/audit", { ...query, limit: PAGE_SIZE, cursor: more ? cursor : undefined });
      if (stopped) return;
      const rows = page.items.map(row);
      if (more) tbody.append(...rows);
      else if (rows.length) tbody.replaceChildren(...rows);
      else tbody.replaceChildren(h("tr", {}, h("td", { colspan: COLS.length, class: "empty" }, t("panel.audit.none"))));
      cursor = page.next_cursor;
      older.hidden = !cursor;
      const count = tbody.querySelectorAll("tr[data-action]").length;
      status.textContent = t("panel.audit.shown", { count });
    } catch (error) {
      if (!stopped) {
        problem.textContent = error.message || t("panel.shell.network_error");
        problem.hidden = false;
      }
    } finally {
      older.disabled = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  older.addEventListener("click", () => load(true));
  root.append(
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("panel.audit.title")),
      form,
      problem,
      status,
      h(
        "div",
        { class: "table-wrap" },
        h("table", { class: "table table-cards" }, h("thead", {}, h("tr", {}, COLS.map((key) => h("th", { scope: "col" }, t(key))))), tbody),
      ),
      h("div", { class: "pager" }, older),
    ),
  );
  load();
  return () => {
    stopped = true;
  };
}
