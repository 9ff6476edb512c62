// Logs: the live tail of the event stream's `log` topic, filtered by the Master (level, logger,
// text, what a record is about), drawn by a virtual list over the newest 5 000 records; a
// history search into the ring and the files, a page at a time; the log files to download.
import { h, replace, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { createVirtualList } from "../parts/virtual-list.js";

export const title = N_("panel.logs.title");

const MAX_RECORDS = 5000; // the live buffer, and the most a history search keeps
const ROW_HEIGHT = 30;
const HISTORY_PAGE = 200;
const TYPING_MS = 400;
const LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
const CONTEXT = {
  app_id: N_("panel.logs.about_app"),
  driver_id: N_("panel.logs.about_driver"),
  message_id: N_("panel.logs.about_message"),
  trace_id: N_("panel.logs.about_trace"),
  remote: N_("panel.logs.about_remote"),
};
const TABS = { live: N_("panel.logs.tab_live"), history: N_("panel.logs.tab_history"), files: N_("panel.logs.tab_files") };
const enc = encodeURIComponent;

/** Where a context value leads in the panel: the instance, the message, the driver. */
function contextHref(router, name, value) {
  if (name === "app_id") return router.href(`/apps/instance/${enc(value)}`);
  if (name === "message_id") return router.href(`/messages/${enc(value)}`);
  if (name === "driver_id") return router.href(`/drivers/${enc(value)}`);
  return null;
}

function field(label, control) {
  const id = uid("log");
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

function levelSelect(t, value, { any = false } = {}) {
  return h(
    "select",
    { class: "select" },
    any ? h("option", { value: "" }, t("panel.logs.any_level")) : null,
    LEVELS.map((level) => h("option", { value: level, selected: level === value }, level)),
  );
}

function oneLine(text) {
  return (text || "").replace(/\s*\n\s*/g, " ⏎ ");
}

export function mount(root, ctx) {
  const { t, api, live, router, format } = ctx;
  // 24-hour time with milliseconds: log lines are read against each other, not a wall clock.
  const clock = new Intl.DateTimeFormat(ctx.i18n.tag, { hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3, hourCycle: "h23" });
  let stopped = false;
  let selected = null;
  // What every record shown must be about (from the address, or a detail's filter button).
  const about = {};
  for (const name of Object.keys(CONTEXT)) {
    const value = ctx.query.get(name);
    if (value) about[name] = value;
  }

  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  function fail(error) {
    if (stopped || error.name === "AbortError") return;
    problem.textContent = error.message || t("panel.shell.network_error");
    problem.hidden = false;
  }

  // One row of either list: time, level, logger, message, and links to what it is about.
  function makeRow() {
    const row = h(
      "div",
      { class: "log-row", tabindex: "-1" },
      h("span", { class: "log-time" }),
      h("span", { class: "log-level" }),
      h("span", { class: "log-logger" }),
      h("span", { class: "log-message" }),
      h("span", { class: "log-links" }),
    );
    row.addEventListener("click", (event) => {
      if (event.target.closest("a")) return; // a link goes where it says
      select(row.__item);
    });
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select(row.__item);
      }
    });
    return row;
  }

  function fillRow(row, item) {
    const [time, level, logger, message, links] = row.children;
    time.textContent = clock.format(item.time_ms);
    level.textContent = item.level;
    level.className = `log-level log-${item.level.toLowerCase()}`;
    logger.textContent = item.logger;
    logger.title = item.logger;
    message.textContent = oneLine(item.message) + (item.exception ? " ⚠" : "");
    row.classList.toggle("log-selected", item === selected);
    row.dataset.level = item.level;
    const chips = [];
    for (const name of ["app_id", "driver_id", "message_id"]) {
      const value = item[name];
      if (!value) continue;
      chips.push(h("a", { class: "log-chip", href: contextHref(router, name, value), title: `${name} ${value}`, dataset: { context: name } }, `${t(CONTEXT[name])} ${value.slice(0, 8)}`));
    }
    links.replaceChildren(...chips);
  }

  // The record opened below the lists, in full.
  const detail = h("section", { class: "card log-detail", "aria-live": "polite", hidden: true });
  function select(item) {
    selected = item;
    tail.refresh();
    history.refresh();
    if (!item) {
      detail.hidden = true;
      return;
    }
    const facts = [
      [t("panel.logs.time"), format.dateTime(item.time_ms) + ` (${item.time})`],
      [t("panel.logs.level"), item.level],
      [t("panel.logs.logger"), item.logger],
    ];
    const context = Object.keys(CONTEXT)
      .filter((name) => item[name])
      .map((name) => {
        const href = contextHref(router, name, item[name]);
        return h(
          "li",
          {},
          h("span", { class: "muted" }, `${t(CONTEXT[name])}: `),
          href ? h("a", { href, class: "mono" }, item[name]) : h("span", { class: "mono" }, item[name]),
          " ",
          h("button", { type: "button", class: "button button-small", onclick: () => filterAbout(name, item[name]) }, t("panel.logs.only_these")),
        );
      });
    replace(
      detail,
      h("div", { class: "page-head" }, h("h2", {}, t("panel.logs.record")), h("button", { type: "button", class: "button button-small", onclick: () => select(null) }, t("panel.common.close"))),
      h("dl", { class: "facts" }, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
      h("pre", { class: "log-text" }, item.message),
      item.exception ? h("pre", { class: "log-text log-exception" }, item.exception) : null,
      context.length ? h("ul", { class: "plain-list" }, context) : null,
    );
    detail.hidden = false;
  }

  // ---- the live tail
  const levelInput = levelSelect(t, ctx.query.get("level") || "INFO");
  const loggerInput = h("input", { class: "input", type: "search", autocomplete: "off", placeholder: "kenkogo_master.hub", value: ctx.query.get("logger") || "" });
  const searchInput = h("input", { class: "input", type: "search", autocomplete: "off", value: ctx.query.get("q") || "" });
  const pauseButton = h("button", { type: "button", class: "button", "aria-pressed": "false" }, t("panel.logs.pause"));
  const clearButton = h("button", { type: "button", class: "button" }, t("panel.logs.clear"));
  const newest = h("button", { type: "button", class: "button button-small log-newest", hidden: true });
  const tailStatus = h("p", { class: "muted small", role: "status" });
  const aboutBar = h("div", { class: "badge-row log-about" });
  let paused = false;
  let held = []; // records that came while paused, the newest MAX_RECORDS
  let heldCount = 0;
  const seen = new Set(); // seq of the records in the buffer: a replay after a reconnect repeats some

  const tail = createVirtualList({
    rowHeight: ROW_HEIGHT,
    max: MAX_RECORDS,
    label: t("panel.logs.tab_live"),
    makeRow,
    fillRow,
    onFollow(following, unseen) {
      newest.hidden = following;
      newest.textContent = unseen ? t("panel.logs.newest_count", { count: unseen }) : t("panel.logs.newest");
    },
  });
  tail.element.classList.add("log-list");
  newest.addEventListener("click", () => tail.scrollToEnd());

  function showTailStatus() {
    const count = tail.items().length;
    tailStatus.textContent = paused
      ? t("panel.logs.paused_status", { count: heldCount })
      : t("panel.logs.live_status", { count, max: MAX_RECORDS });
  }

  function keep(records) {
    const fresh = [];
    for (const record of records) {
      const key = record.seq == null ? null : `${record.seq}`;
      if (key !== null && seen.has(key)) continue;
      if (key !== null) seen.add(key);
      fresh.push(record);
    }
    return fresh;
  }

  function forgetDropped() {
    // `seen` follows the buffer: what fell out of it may be forgotten.
    if (seen.size <= MAX_RECORDS * 2) return;
    seen.clear();
    for (const record of tail.items()) if (record.seq != null) seen.add(`${record.seq}`);
  }

  function onLogs(events) {
    const records = keep(events.map((event) => event.data));
    if (!records.length) return;
    if (paused) {
      held.push(...records);
      if (held.length > MAX_RECORDS) held.splice(0, held.length - MAX_RECORDS);
      heldCount += records.length;
    } else {
      tail.append(records);
      forgetDropped();
    }
    showTailStatus();
  }

  function filters() {
    const query = { level: levelInput.value, logger: loggerInput.value.trim(), q: searchInput.value.trim(), ...about };
    return Object.fromEntries(Object.entries(query).filter(([, value]) => value));
  }

  async function loadRecent() {
    // What the stream does not replay: the newest records before it opened, from the ring.
    const wanted = filters();
    const page = await api.get("/api/v1/logs", { ...wanted, limit: HISTORY_PAGE });
    if (stopped || JSON.stringify(wanted) !== JSON.stringify(filters())) return;
    seen.clear();
    const records = page.items.slice().reverse();
    const merged = [...records, ...held];
    held = [];
    heldCount = 0;
    tail.replaceAll(keep(merged));
    showTailStatus();
  }

  let unsubscribe = () => {};
  function subscribe() {
    unsubscribe();
    unsubscribe = live.subscribe("log", onLogs, { query: filters(), onReset: () => loadRecent().catch(fail) });
  }
  let typing = 0;
  function refilter() {
    clearTimeout(typing);
    typing = setTimeout(() => {
      problem.hidden = true;
      held = [];
      heldCount = 0;
      select(null);
      tail.clear();
      subscribe();
      showAbout();
    }, TYPING_MS);
  }
  levelInput.addEventListener("change", refilter);
  loggerInput.addEventListener("input", refilter);
  searchInput.addEventListener("input", refilter);
  pauseButton.addEventListener("click", () => {
    paused = !paused;
    pauseButton.textContent = paused ? t("panel.logs.resume") : t("panel.logs.pause");
    pauseButton.setAttribute("aria-pressed", String(paused));
    pauseButton.classList.toggle("button-primary", paused);
    if (!paused && held.length) {
      tail.append(held);
      forgetDropped();
    }
    if (!paused) {
      held = [];
      heldCount = 0;
    }
    showTailStatus();
  });
  clearButton.addEventListener("click", () => {
    tail.clear();
    showTailStatus();
  });

  function filterAbout(name, value) {
    for (const key of Object.keys(about)) delete about[key];
    about[name] = value;
    historyAbout.value = name;
    historyAboutValue.value = value;
    refilter();
  }

  function showAbout() {
    aboutBar.replaceChildren(
      ...Object.entries(about).map(([name, value]) =>
        h(
          "span",
          { class: "badge log-about-badge" },
          `${t(CONTEXT[name])}: ${value.length > 24 ? value.slice(0, 24) + "…" : value} `,
          h("button", { type: "button", class: "link-button", "aria-label": t("panel.logs.remove_filter"), onclick: () => {
            delete about[name];
            refilter();
          } }, "×"),
        ),
      ),
    );
  }

  const livePanel = h(
    "div",
    { class: "tab-panel" },
    h(
      "div",
      { class: "toolbar" },
      field(t("panel.logs.level"), levelInput),
      field(t("panel.logs.logger"), loggerInput),
      field(t("panel.logs.search"), searchInput),
      h("div", { class: "toolbar-buttons" }, pauseButton, clearButton),
    ),
    aboutBar,
    h("div", { class: "log-frame" }, tail.element, newest),
    tailStatus,
  );

  // ---- history: the ring, then the files, a page at a time
  const historyLevel = levelSelect(t, "", { any: true });
  const historyLogger = h("input", { class: "input", type: "search", autocomplete: "off" });
  const historyQ = h("input", { class: "input", type: "search", autocomplete: "off" });
  const historySince = h("input", { class: "input", type: "datetime-local", step: "1" });
  const historyUntil = h("input", { class: "input", type: "datetime-local", step: "1" });
  const historyAbout = h(
    "select",
    { class: "select" },
    h("option", { value: "" }, t("panel.logs.about_anything")),
    Object.entries(CONTEXT).map(([name, key]) => h("option", { value: name }, t(key))),
  );
  const historyAboutValue = h("input", { class: "input", autocomplete: "off" });
  for (const [name, value] of Object.entries(about)) {
    historyAbout.value = name;
    historyAboutValue.value = value;
  }
  const historyStatus = h("p", { class: "muted small", role: "status" });
  const older = h("button", { type: "button", class: "button", hidden: true }, t("panel.logs.older"));
  const history = createVirtualList({ rowHeight: ROW_HEIGHT, max: MAX_RECORDS, label: t("panel.logs.tab_history"), tail: false, makeRow, fillRow });
  history.element.classList.add("log-list");
  let cursor = null;
  let historyQuery = null;

  function epoch(input) {
    if (!input.value) return undefined;
    const ms = new Date(input.value).getTime();
    return Number.isFinite(ms) ? ms : undefined;
  }

  async function searchHistory(more = false) {
    problem.hidden = true;
    if (!more) {
      historyQuery = {
        level: historyLevel.value,
        logger: historyLogger.value.trim(),
        q: historyQ.value.trim(),
        since: epoch(historySince),
        until: epoch(historyUntil),
      };
      if (historyAbout.value && historyAboutValue.value.trim()) historyQuery[historyAbout.value] = historyAboutValue.value.trim();
      cursor = null;
    }
    older.disabled = true;
    try {
      const page = await api.get("/api/v1/logs", { ...historyQuery, limit: HISTORY_PAGE, cursor: more ? cursor : undefined });
      if (stopped) return;
      if (more) history.append(page.items);
      else history.replaceAll(page.items);
      cursor = page.next_cursor;
      const count = history.items().length;
      older.hidden = !cursor || count >= MAX_RECORDS;
      const found = page.scan_limited ? N_("panel.logs.found_more") : N_("panel.logs.found");
      historyStatus.textContent = count ? t(found, { count }) : t("panel.logs.none_found");
    } catch (error) {
      fail(error);
    } finally {
      older.disabled = false;
    }
  }
  older.addEventListener("click", () => searchHistory(true));
  const historyForm = h(
    "form",
    { class: "toolbar", onsubmit: (event) => (event.preventDefault(), searchHistory()) },
    field(t("panel.logs.level"), historyLevel),
    field(t("panel.logs.logger"), historyLogger),
    field(t("panel.logs.search"), historyQ),
    field(t("panel.logs.since"), historySince),
    field(t("panel.logs.until"), historyUntil),
    field(t("panel.logs.about"), historyAbout),
    field(t("panel.logs.about_id"), historyAboutValue),
    h("div", { class: "toolbar-buttons" }, h("button", { type: "submit", class: "button button-primary" }, t("panel.logs.find"))),
  );
  const historyPanel = h("div", { class: "tab-panel", hidden: true }, historyForm, historyStatus, h("div", { class: "log-frame" }, history.element), h("div", { class: "pager" }, older));

  // ---- the files
  const filesBody = h("tbody");
  const filesNote = h("p", { class: "muted", hidden: true }, t("panel.logs.files_off"));
  const fileCols = [N_("panel.logs.file_name"), N_("panel.logs.file_size"), N_("panel.logs.file_modified"), N_("panel.logs.file_download")];
  async function loadFiles() {
    const list = await api.get("/api/v1/logs/files");
    if (stopped) return;
    filesNote.hidden = list.enabled;
    if (!list.items.length) {
      filesBody.replaceChildren(h("tr", {}, h("td", { colspan: fileCols.length, class: "empty" }, t("panel.logs.no_files"))));
      return;
    }
    filesBody.replaceChildren(
      ...list.items.map((item) => {
        const cells = [
          h("span", { class: "mono" }, item.name, item.current ? h("span", { class: "badge log-current" }, t("panel.logs.current")) : null),
          format.bytes(item.size),
          format.dateTime(item.modified_ms),
          h("a", { class: "button button-small", href: `/api/v1/logs/files/${enc(item.name)}`, download: item.name }, t("panel.logs.download")),
        ];
        return h("tr", { dataset: { file: item.name } }, cells.map((cell, i) => h("td", { "data-label": t(fileCols[i]) }, h("div", { class: "cell" }, cell))));
      }),
    );
  }
  const filesPanel = h(
    "div",
    { class: "tab-panel", hidden: true },
    filesNote,
    h(
      "div",
      { class: "table-wrap" },
      h("table", { class: "table table-cards" }, h("thead", {}, h("tr", {}, fileCols.map((key) => h("th", { scope: "col" }, t(key))))), filesBody),
    ),
  );

  // ---- tabs
  const panels = { live: livePanel, history: historyPanel, files: filesPanel };
  const tabButtons = {};
  const tabList = h(
    "div",
    { class: "tabs", role: "tablist", "aria-label": t("panel.logs.title") },
    Object.entries(TABS).map(([name, key]) => {
      const button = h("button", { type: "button", role: "tab", class: "tab", id: uid("tab"), "aria-selected": "false" }, t(key));
      button.addEventListener("click", () => showTab(name));
      tabButtons[name] = button;
      return button;
    }),
  );
  function showTab(name) {
    for (const [other, panel] of Object.entries(panels)) {
      panel.hidden = other !== name;
      tabButtons[other].setAttribute("aria-selected", String(other === name));
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tabButtons[other].id);
    }
    if (name === "files") loadFiles().catch(fail);
    if (name === "history" && !historyQuery) searchHistory();
    if (name === "live") tail.refresh();
  }

  root.append(
    h("div", { class: "page-head" }, h("h1", {}, t("panel.logs.title"))),
    tabList,
    problem,
    h("section", { class: "card" }, livePanel, historyPanel, filesPanel),
    detail,
  );
  showAbout();
  showTailStatus();
  subscribe();
  showTab(ctx.query.get("tab") in panels ? ctx.query.get("tab") : "live");
  return () => {
    stopped = true;
    clearTimeout(typing);
    unsubscribe();
    tail.destroy();
    history.destroy();
  };
}
