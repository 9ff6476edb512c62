// Database: engine, version, schema revision and size; every table with its rows and bytes;
// vacuum, analyze and integrity check with what they found (one at a time: the Master answers
// 409 while another runs); a backup download; retention per kind of row, and prune now.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";

export const title = N_("panel.db.title");

const REFRESH_MS = 30000; // sizes and row counts: while the page is visible, twice a minute
const OPERATIONS = [
  { path: "vacuum", label: N_("panel.db.vacuum"), explain: N_("panel.db.vacuum_explain") },
  { path: "analyze", label: N_("panel.db.analyze"), explain: N_("panel.db.analyze_explain") },
  { path: "integrity-check", label: N_("panel.db.integrity_check"), explain: N_("panel.db.integrity_explain") },
];
const OPERATION_NAMES = {
  vacuum: N_("panel.db.vacuum"),
  analyze: N_("panel.db.analyze"),
  integrity_check: N_("panel.db.integrity_check"),
  backup: N_("panel.db.backup"),
  prune: N_("panel.db.prune"),
};
const POLICIES = {
  messages: N_("panel.db.policy_messages"),
  traces: N_("panel.db.policy_traces"),
  audit: N_("panel.db.policy_audit"),
  sessions: N_("panel.db.policy_sessions"),
  stats_minute: N_("panel.db.policy_stats_minute"),
  stats_hour: N_("panel.db.policy_stats_hour"),
  stats_day: N_("panel.db.policy_stats_day"),
};

export function mount(root, ctx) {
  const { t, api, router, format } = ctx;
  let stopped = false;
  let timer = 0;
  let busy = false;

  const summary = h("p", { class: "muted", role: "status" });
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const facts = h("dl", { class: "facts" });
  const opButtons = OPERATIONS.map((op) => h("button", { type: "button", class: "button", dataset: { op: op.path }, title: t(op.explain) }, t(op.label)));
  const backup = h("a", { class: "button", href: "/api/v1/db/backup", download: "" }, t("panel.db.backup"));
  const backupNote = h("p", { class: "muted small", hidden: true });
  const result = h("div", { class: "db-result", role: "status", "aria-live": "polite" });
  const tablesBody = h("tbody");
  const tableHeaders = [N_("panel.db.col_table"), N_("panel.db.col_rows"), N_("panel.db.col_size")];
  const retentionForm = h("form", { class: "stack", novalidate: true });
  const pruneResult = h("div", { class: "db-result", role: "status", "aria-live": "polite" });

  root.append(
    h("div", { class: "page-head" }, h("h1", {}, t("panel.db.title")), summary),
    problem,
    h(
      "div",
      { class: "grid grid-2" },
      h("section", { class: "card" }, h("h2", {}, t("panel.db.overview")), facts),
      h(
        "section",
        { class: "card" },
        h("h2", {}, t("panel.db.maintenance")),
        h("p", { class: "muted small" }, t("panel.db.maintenance_explain")),
        h("div", { class: "button-row button-row-start" }, opButtons, backup),
        backupNote,
        result,
      ),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("panel.db.tables")),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table db-tables" },
          h("caption", { class: "visually-hidden" }, t("panel.db.tables")),
          h("thead", {}, h("tr", {}, tableHeaders.map((key, i) => h("th", { scope: "col", class: i ? "num" : null }, t(key))))),
          tablesBody,
        ),
      ),
    ),
    h("section", { class: "card" }, h("h2", {}, t("panel.db.retention")), h("p", { class: "muted small" }, t("panel.db.retention_explain")), retentionForm, pruneResult),
  );

  function fail(error) {
    if (stopped) return;
    problem.textContent = error.message || t("panel.shell.network_error");
    problem.hidden = false;
  }

  function fact(label, ...value) {
    return [h("dt", {}, label), h("dd", {}, value)];
  }

  function renderInfo(info) {
    summary.textContent = t("panel.db.summary", { engine: info.engine, version: info.version, size: info.bytes == null ? "–" : format.bytes(info.bytes) });
    const revision = info.at_head
      ? [h("span", { class: "mono" }, info.revision), " ", h("span", { class: "badge badge-scheduling" }, t("panel.db.at_head"))]
      : [h("span", { class: "mono" }, info.revision ?? "–"), " ", h("span", { class: "badge badge-paused" }, t("panel.db.behind", { head: info.head_revision ?? "–" }))];
    const files = Object.entries(info.files || {}).map(([name, bytes]) => `${name} ${format.bytes(bytes)}`).join(" · ");
    facts.replaceChildren(
      ...fact(t("panel.db.engine"), `${info.engine} ${info.version}`),
      ...fact(t("panel.db.url"), h("span", { class: "mono" }, info.url)),
      ...(info.path ? fact(t("panel.db.path"), h("span", { class: "mono" }, info.path)) : []),
      ...fact(t("panel.db.size"), info.bytes == null ? "–" : format.bytes(info.bytes), files ? h("span", { class: "muted small" }, ` (${files})`) : null),
      ...fact(t("panel.db.revision"), revision),
      ...fact(t("panel.db.running"), info.maintenance_running ? t(OPERATION_NAMES[info.maintenance_running] || info.maintenance_running) : t("panel.db.nothing_running")),
    );
    const sqlite = info.engine === "sqlite";
    backup.hidden = !sqlite;
    backupNote.hidden = sqlite;
    backupNote.textContent = sqlite ? "" : t("panel.db.backup_elsewhere", { engine: info.engine });
    if (!busy) for (const button of opButtons) button.disabled = Boolean(info.maintenance_running);
    const tables = [...info.tables].sort((a, b) => (b.bytes ?? 0) - (a.bytes ?? 0) || b.rows - a.rows || a.name.localeCompare(b.name));
    tablesBody.replaceChildren(
      ...tables.map((table) =>
        h(
          "tr",
          { dataset: { table: table.name } },
          h("td", { "data-label": t(tableHeaders[0]) }, table.browsable ? h("a", { href: router.href(`/database/tables/${encodeURIComponent(table.name)}`), class: "mono" }, table.name) : h("span", { class: "mono" }, table.name)),
          h("td", { "data-label": t(tableHeaders[1]), class: "num" }, format.number(table.rows)),
          h("td", { "data-label": t(tableHeaders[2]), class: "num" }, table.bytes == null ? "–" : format.bytes(table.bytes)),
        ),
      ),
    );
  }

  function outcome(answer) {
    const name = t(OPERATION_NAMES[answer.operation] || answer.operation);
    const lines = [
      h("p", {}, h("strong", {}, answer.ok ? t("panel.db.op_ok", { operation: name }) : t("panel.db.op_problems", { operation: name, count: answer.problems.length }))),
      h("p", { class: "muted small" }, t("panel.db.op_figures", { duration: format.number(answer.duration_ms, 1), paused: format.number(answer.writes_paused_ms, 1) })),
      h("p", { class: "mono small" }, answer.result),
    ];
    if (answer.bytes_before != null && answer.bytes_after != null) {
      lines.push(h("p", { class: "small" }, t("panel.db.op_bytes", { before: format.bytes(answer.bytes_before), after: format.bytes(answer.bytes_after) })));
    }
    if (answer.checked.length) lines.push(h("p", { class: "small muted" }, t("panel.db.op_checked", { checked: answer.checked.join(", ") })));
    if (answer.problems.length) lines.push(h("ul", { class: "plain-list mono small" }, answer.problems.map((item) => h("li", {}, item))));
    return h("div", { class: answer.ok ? "form-ok" : "form-error" }, lines);
  }

  async function run(op, button) {
    busy = true;
    problem.hidden = true;
    for (const other of opButtons) other.disabled = true;
    const label = button.textContent;
    button.textContent = t("panel.db.running_now");
    result.replaceChildren(h("p", { class: "muted" }, t("panel.db.op_running", { operation: label })));
    try {
      const answer = await api.post(`/api/v1/db/${op}`);
      result.replaceChildren(outcome(answer));
    } catch (error) {
      result.replaceChildren(h("p", { class: "form-error" }, error.message || t("panel.shell.network_error")));
    } finally {
      busy = false;
      button.textContent = label;
      for (const other of opButtons) other.disabled = false;
      refresh();
    }
  }
  opButtons.forEach((button, i) => button.addEventListener("click", () => run(OPERATIONS[i].path, button)));

  // -- retention -----------------------------------------------------------------------------

  function renderRetention(info) {
    const inputs = new Map();
    const rows = info.items.map((item) => {
      const id = uid("days");
      const input = h("input", { id, class: "input input-days", type: "number", min: "0.01", max: "36500", step: "any", inputmode: "decimal", required: true, value: String(item.days) });
      inputs.set(item.name, input);
      const reset = h(
        "button",
        { type: "button", class: "button button-small button-quiet", hidden: !item.overridden, onclick: () => save({ [item.name]: null }) },
        t("panel.db.reset_days", { days: format.number(item.configured_days, 2) }),
      );
      return h(
        "div",
        { class: "retention-row", dataset: { policy: item.name } },
        h(
          "div",
          { class: "retention-what" },
          h("label", { for: id, class: "strong" }, POLICIES[item.name] ? t(POLICIES[item.name]) : item.description),
          h("span", { class: "muted small" }, item.tables.join(", ")),
        ),
        h(
          "div",
          { class: "retention-value" },
          input,
          h("span", { class: "muted small" }, t("panel.db.days")),
          item.overridden ? h("span", { class: "badge badge-held" }, t("panel.db.overridden")) : h("span", { class: "muted small" }, t("panel.db.from_setting", { setting: item.setting })),
          reset,
        ),
      );
    });
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const saveButton = h("button", { type: "submit", class: "button button-primary" }, t("panel.db.save_retention"));
    const prune = h("button", { type: "button", class: "button", disabled: info.prune_running }, t("panel.db.prune_now"));
    const last = info.last_prune ? h("p", { class: "muted small" }, t("panel.db.last_prune", { when: format.dateTime(info.last_prune.started_ms), removed: info.last_prune.removed })) : h("p", { class: "muted small" }, t("panel.db.never_pruned"));
    retentionForm.replaceChildren(...rows, error, h("div", { class: "button-row button-row-start" }, saveButton, prune), last);

    async function save(changes) {
      error.hidden = true;
      try {
        renderRetention(await api.put("/api/v1/db/retention", changes));
        pruneResult.replaceChildren(h("p", { class: "form-ok" }, t("panel.db.retention_saved")));
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
      }
    }

    retentionForm.onsubmit = (event) => {
      event.preventDefault();
      const changes = {};
      for (const item of info.items) {
        const input = inputs.get(item.name);
        const days = Number(input.value);
        if (!input.value || !Number.isFinite(days) || days <= 0 || days > 36500) {
          error.textContent = t("panel.db.bad_days");
          error.hidden = false;
          input.focus();
          return;
        }
        if (days !== item.days) changes[item.name] = days;
      }
      if (!Object.keys(changes).length) return;
      save(changes);
    };
    prune.addEventListener("click", async () => {
      prune.disabled = true;
      pruneResult.replaceChildren(h("p", { class: "muted" }, t("panel.db.pruning")));
      try {
        const report = await api.post("/api/v1/db/prune");
        const items = report.items.filter((item) => item.removed > 0);
        pruneResult.replaceChildren(
          h(
            "div",
            { class: "form-ok" },
            h("p", {}, h("strong", {}, t("panel.db.pruned", { removed: report.removed, duration: format.number(report.duration_ms, 1) }))),
            items.length
              ? h("ul", { class: "plain-list small" }, items.map((item) => h("li", {}, t("panel.db.pruned_item", { table: item.table, removed: item.removed, cutoff: format.dateTime(item.cutoff_ms) }))))
              : h("p", { class: "small" }, t("panel.db.pruned_nothing")),
          ),
        );
      } catch (failure) {
        pruneResult.replaceChildren(h("p", { class: "form-error" }, failure.message));
      } finally {
        prune.disabled = false;
        refresh();
      }
    });
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const [info, retention] = await Promise.all([api.get("/api/v1/db"), api.get("/api/v1/db/retention")]);
      if (stopped) return;
      renderInfo(info);
      // Do not redraw the form while the operator types in it.
      const typing = document.activeElement?.tagName === "INPUT" && retentionForm.contains(document.activeElement);
      if (!typing || !retentionForm.children.length) renderRetention(retention);
    } catch (error) {
      fail(error);
    }
    if (!stopped) timer = setTimeout(tick, REFRESH_MS);
  }

  function tick() {
    if (document.visibilityState === "visible") refresh();
    else timer = setTimeout(tick, REFRESH_MS);
  }

  // Another operator's vacuum, prune or retention change: show it (at most once a second).
  let soon = 0;
  const unsubscribe = ctx.live.subscribe("db", () => {
    if (!soon) soon = setTimeout(() => ((soon = 0), refresh()), 1000);
  });
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearTimeout(soon);
    unsubscribe();
  };
}
