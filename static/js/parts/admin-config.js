// The configuration in effect, key by key: its value (secrets masked by the Master), where it
// comes from, and — for the keys that may change while the Master runs — an inline editor whose
// refusals (a bad value, a key only a restart changes) are shown on the key's row.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";

const SOURCES = {
  default: N_("panel.config.source_default"),
  file: N_("panel.config.source_file"),
  env: N_("panel.config.source_env"),
  runtime: N_("panel.config.source_runtime"),
};
const CHOICES = { "logging.level": ["DEBUG", "INFO", "WARNING", "ERROR"] };
const COLS = [N_("panel.config.col_key"), N_("panel.config.col_value"), N_("panel.config.col_source")];

/** A value as text: lists joined, null as a dash. */
export function shown(value) {
  if (value === null || value === undefined) return "–";
  if (Array.isArray(value)) return value.length ? value.map(shown).join(", ") : "[ ]";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function mount(root, ctx) {
  const { t, api, format } = ctx;
  let stopped = false;
  let items = [];
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const fileNote = h("p", { class: "muted" });
  const searchId = uid("cfg");
  const search = h("input", { id: searchId, class: "input", type: "search", autocomplete: "off" });
  const onlyId = uid("cfg");
  const onlyRuntime = h("input", { id: onlyId, type: "checkbox" });
  const tbody = h("tbody");

  function fail(error) {
    if (stopped) return;
    problem.textContent = error.message || t("panel.shell.network_error");
    problem.hidden = false;
  }

  function editor(item) {
    const id = uid("cfg");
    let input;
    const choices = CHOICES[item.key];
    if (choices) {
      input = h("select", { id, class: "select" }, choices.map((value) => h("option", { value, selected: value === item.value }, value)));
    } else if (typeof item.value === "boolean") {
      input = h("select", { id, class: "select" }, ["true", "false"].map((value) => h("option", { value, selected: value === String(item.value) }, value)));
    } else if (typeof item.value === "number") {
      input = h("input", { id, class: "input config-input", type: "number", step: "any", value: String(item.value), inputmode: "decimal" });
    } else {
      input = h("input", { id, class: "input config-input", value: item.value ?? "" });
    }
    const error = h("p", { class: "form-error config-error", role: "alert", hidden: true });
    const save = h("button", { type: "submit", class: "button button-small button-primary" }, t("panel.config.save"));
    const reset = item.source === "runtime" ? h("button", { type: "button", class: "button button-small" }, t("panel.config.reset")) : null;
    const form = h(
      "form",
      { class: "config-edit", novalidate: true },
      h("label", { for: id, class: "visually-hidden" }, item.key),
      input,
      save,
      reset,
      error,
    );
    function value() {
      if (typeof item.value === "boolean") return input.value === "true";
      if (typeof item.value === "number" && input.value.trim() !== "") {
        const number = Number(input.value);
        return Number.isFinite(number) ? number : input.value;
      }
      return input.value;
    }
    async function run(work) {
      error.hidden = true;
      save.disabled = true;
      try {
        const answer = await work();
        show(answer.items);
      } catch (failure) {
        save.disabled = false;
        error.textContent = failure.message || t("panel.shell.network_error");
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (typeof item.value === "number" && input.value.trim() === "") {
        error.textContent = t("panel.config.empty");
        error.hidden = false;
        return;
      }
      run(() => api.patch("/api/v1/settings", { [item.key]: value() }));
    });
    reset?.addEventListener("click", () => run(() => api.del(`/api/v1/settings/${encodeURIComponent(item.key)}`)));
    return form;
  }

  function row(item) {
    const source = [h("span", { class: `badge badge-source-${item.source}` }, t(SOURCES[item.source]))];
    if (!item.runtime) source.push(h("span", { class: "badge" }, t("panel.config.restart")));
    const details = [];
    if (item.source === "runtime") {
      details.push(h("div", { class: "muted small" }, t("panel.config.configured", { value: shown(item.configured), source: t(SOURCES[item.configured_source]) })));
    }
    if (item.updated_ms) details.push(h("div", { class: "muted small" }, format.dateTime(item.updated_ms)));
    const value = item.runtime
      ? editor(item)
      : h("span", { class: ["config-value", item.secret ? "config-secret" : null] }, shown(item.value));
    const cells = [
      h("span", { class: "mono" }, item.key),
      [value, details],
      h("span", { class: "badge-row" }, source),
    ];
    return h("tr", { dataset: { key: item.key } }, cells.map((cell, i) => h("td", { "data-label": t(COLS[i]) }, h("div", { class: "cell" }, cell))));
  }

  function render() {
    const needle = search.value.trim().toLowerCase();
    const shownItems = items.filter((item) => (!onlyRuntime.checked || item.runtime) && (!needle || item.key.includes(needle)));
    const rows = [];
    let section = null;
    for (const item of shownItems) {
      if (item.section !== section) {
        section = item.section;
        rows.push(h("tr", { class: "config-section" }, h("th", { colspan: COLS.length, scope: "colgroup" }, `[${section}]`)));
      }
      rows.push(row(item));
    }
    if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: COLS.length, class: "empty" }, t("panel.config.none"))));
    tbody.replaceChildren(...rows);
  }

  function show(next) {
    items = next;
    problem.hidden = true;
    render();
  }

  async function load() {
    const info = await api.get("/api/v1/settings");
    if (stopped) return;
    fileNote.textContent = info.config_file ? t("panel.config.file", { path: info.config_file }) : t("panel.config.no_file");
    show(info.items);
  }

  search.addEventListener("input", render);
  onlyRuntime.addEventListener("change", render);
  root.append(
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("panel.config.title")),
      fileNote,
      h("p", { class: "muted small" }, t("panel.config.intro")),
      problem,
      h(
        "div",
        { class: "toolbar" },
        h("div", { class: "field" }, h("label", { for: searchId }, t("panel.config.search")), search),
        h("div", { class: "field field-check" }, h("label", { for: onlyId }, onlyRuntime, " ", t("panel.config.only_runtime"))),
      ),
      h(
        "div",
        { class: "table-wrap" },
        h("table", { class: "table table-cards config-table" }, h("thead", {}, h("tr", {}, COLS.map((key) => h("th", { scope: "col" }, t(key))))), tbody),
      ),
    ),
  );
  load().catch(fail);
  return () => {
    stopped = true;
  };
}
