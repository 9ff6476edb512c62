// Apps: every live instance and every app name, updated from the event stream without a
// reload. Instances come a page at a time (a fleet of 1 000 renders 50 rows); rows are kept
// and patched in place, so a button keeps the keyboard focus while the numbers move.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { STATES, actions, kickWithReason, stateBadge, subscriptionText } from "../parts/app-actions.js";

export const title = N_("panel.apps.title");

const PAGE_SIZE = 50;
const REFETCH_MS = 1000; // new instances and names: at most one reload a second

export function mount(root, ctx) {
  const { t, api, live, router, format } = ctx;
  const apps = new Map(); // id → instance, as GET /api/v1/apps answers (+ live patches)
  let names = []; // GET /api/v1/app-names
  const queued = new Map(); // name → messages waiting
  const rows = new Map(); // id → {row, update}
  let page = 0;
  let stopped = false;
  let refetchTimer = 0;
  let lastFetch = 0;

  const summary = h("p", { class: "muted", role: "status" });
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const searchId = uid("search");
  const stateId = uid("state");
  const search = h("input", { id: searchId, class: "input", type: "search", autocomplete: "off" });
  const stateFilter = h(
    "select",
    { id: stateId, class: "select" },
    h("option", { value: "" }, t("panel.apps.all_states")),
    Object.entries(STATES)
      .filter(([state]) => state !== "disconnected")
      .map(([state, key]) => h("option", { value: state }, t(key))),
  );
  const tbody = h("tbody");
  const pager = h("div", { class: "pager" });
  const namesBody = h("tbody");
  const headers = [
    N_("panel.apps.col_app"),
    N_("panel.apps.col_state"),
    N_("panel.apps.col_transport"),
    N_("panel.apps.col_version"),
    N_("panel.apps.col_priority"),
    N_("panel.apps.col_subscription"),
    N_("panel.apps.col_in_flight"),
    N_("panel.apps.col_queued"),
    N_("panel.apps.col_actions"),
  ];
  const nameHeaders = [
    N_("panel.apps.col_name"),
    N_("panel.apps.col_instances"),
    N_("panel.apps.col_status"),
    N_("panel.apps.col_queued"),
    N_("panel.apps.col_actions"),
  ];
  const table = (cols, body, caption) =>
    h(
      "div",
      { class: "table-wrap" },
      h("table", { class: "table table-cards" }, h("caption", { class: "visually-hidden" }, caption), h("thead", {}, h("tr", {}, cols.map((key) => h("th", { scope: "col" }, t(key))))), body),
    );

  root.append(
    h("div", { class: "page-head" }, h("h1", {}, t("panel.apps.title")), summary),
    problem,
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("panel.apps.instances")),
      h(
        "div",
        { class: "toolbar" },
        h("div", { class: "field" }, h("label", { for: searchId }, t("panel.apps.search")), search),
        h("div", { class: "field" }, h("label", { for: stateId }, t("panel.apps.state_filter")), stateFilter),
      ),
      table(headers, tbody, t("panel.apps.instances")),
      pager,
    ),
    h("section", { class: "card" }, h("h2", {}, t("panel.apps.names")), table(nameHeaders, namesBody, t("panel.apps.names"))),
  );

  function fail(error) {
    if (stopped || error.name === "AbortError") return;
    problem.textContent = error.message || t("panel.shell.network_error");
    problem.hidden = false;
  }

  async function act(work) {
    problem.hidden = true;
    try {
      await work();
    } catch (error) {
      fail(error);
    }
  }

  function instanceRow(id) {
    const cells = headers.map((key) => h("td", { "data-label": t(key) }));
    const nameLink = h("a", { class: "strong" });
    const idLink = h("a", { class: "mono small" });
    cells[0].append(nameLink, h("br"), idLink);
    const toggle = h("button", { type: "button", class: "button button-small" });
    const kick = h("button", { type: "button", class: "button button-small button-danger" }, t("panel.apps.kick"));
    cells[8].append(h("div", { class: "button-row" }, toggle, kick));
    const row = h("tr", { dataset: { id } }, cells);
    let current = null;
    toggle.addEventListener("click", () =>
      act(async () => {
        const changed = await (current.state === "scheduling" ? actions.pause : actions.resume)(api, id);
        patch(changed);
      }),
    );
    kick.addEventListener("click", () => act(() => kickWithReason(ctx, current)));
    function update(app) {
      current = app;
      nameLink.textContent = app.name || t("panel.apps.unregistered");
      nameLink.href = app.name ? router.href(`/apps/name/${encodeURIComponent(app.name)}`) : router.href(`/apps/instance/${encodeURIComponent(id)}`);
      idLink.textContent = id;
      idLink.href = router.href(`/apps/instance/${encodeURIComponent(id)}`);
      cells[1].replaceChildren(stateBadge(t, app.state), app.held ? h("span", { class: "badge badge-held" }, t("panel.apps.held")) : "");
      cells[2].textContent = app.transport;
      cells[3].textContent = app.version ?? "–";
      cells[4].textContent = app.priority ?? "–";
      const text = subscriptionText(app.subscribe);
      cells[5].textContent = text || t("panel.apps.everything");
      cells[5].title = text;
      cells[5].className = "clip";
      cells[6].textContent = format.number(app.in_flight ?? 0);
      cells[7].textContent = format.number(queued.get(app.name) ?? 0);
      toggle.textContent = app.state === "scheduling" ? t("panel.apps.pause") : t("panel.apps.resume");
      toggle.disabled = !["scheduling", "paused"].includes(app.state);
      toggle.dataset.action = app.state === "scheduling" ? "pause" : "resume";
    }
    return { row, update };
  }

  function filtered() {
    const needle = search.value.trim().toLowerCase();
    const state = stateFilter.value;
    return [...apps.values()]
      .filter((app) => (!state || app.state === state) && (!needle || (app.name || "").toLowerCase().includes(needle) || app.id.includes(needle)))
      .sort((a, b) => (a.name || "").localeCompare(b.name || "") || a.connected_ms - b.connected_ms);
  }

  function render() {
    const list = filtered();
    const pages = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    const shown = list.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    const wanted = new Set(shown.map((app) => app.id));
    for (const id of rows.keys()) if (!wanted.has(id)) rows.delete(id);
    const ordered = shown.map((app) => {
      let entry = rows.get(app.id);
      if (!entry) rows.set(app.id, (entry = instanceRow(app.id)));
      entry.update(app);
      return entry.row;
    });
    // Move rows only when the order changed: moving a row would take the focus from it.
    const same = ordered.length === tbody.children.length && ordered.every((row, i) => tbody.children[i] === row);
    if (!same) tbody.replaceChildren(...ordered);
    if (!list.length) tbody.replaceChildren(h("tr", {}, h("td", { colspan: headers.length, class: "empty" }, apps.size ? t("panel.apps.no_match") : t("panel.apps.none"))));
    const counts = { scheduling: 0, paused: 0 };
    for (const app of apps.values()) if (app.state in counts) counts[app.state] += 1;
    summary.textContent = t("panel.apps.summary", { total: apps.size, scheduling: counts.scheduling, paused: counts.paused });
    const first = list.length ? page * PAGE_SIZE + 1 : 0;
    pager.replaceChildren(
      h("button", { type: "button", class: "button button-small", disabled: page === 0, onclick: () => ((page -= 1), render()) }, t("panel.common.previous")),
      h("span", { class: "muted" }, t("panel.common.range", { first, last: page * PAGE_SIZE + shown.length, total: list.length })),
      h("button", { type: "button", class: "button button-small", disabled: page >= pages - 1, onclick: () => ((page += 1), render()) }, t("panel.common.next")),
    );
    renderNames();
  }

  function renderNames() {
    if (!names.length) {
      namesBody.replaceChildren(h("tr", {}, h("td", { colspan: nameHeaders.length, class: "empty" }, t("panel.apps.no_names"))));
      return;
    }
    namesBody.replaceChildren(
      ...names.map((item) => {
        const status = [];
        if (item.held) status.push(h("span", { class: "badge badge-held" }, t("panel.apps.held")));
        if (item.away) status.push(h("span", { class: "badge badge-away", title: item.away_since_ms ? format.dateTime(item.away_since_ms) : "" }, t("panel.apps.away")));
        if (!status.length) status.push(h("span", { class: "muted" }, item.instances ? t("panel.apps.present") : t("panel.apps.gone")));
        const button = h(
          "button",
          { type: "button", class: "button button-small", dataset: { action: item.held ? "release" : "hold" } },
          item.held ? t("panel.apps.release") : t("panel.apps.hold"),
        );
        button.addEventListener("click", () =>
          act(async () => {
            await (item.held ? actions.release : actions.hold)(api, item.name);
            await refetch();
          }),
        );
        const cells = [
          h("a", { href: router.href(`/apps/name/${encodeURIComponent(item.name)}`), class: "strong" }, item.name),
          format.number(item.instances),
          h("span", { class: "badge-row" }, status),
          format.number(queued.get(item.name) ?? item.queued),
          button,
        ];
        return h("tr", { dataset: { name: item.name } }, cells.map((cell, i) => h("td", { "data-label": t(nameHeaders[i]) }, cell)));
      }),
    );
  }

  function patch(app) {
    const known = apps.get(app.id);
    apps.set(app.id, { ...known, ...app });
    render();
  }

  async function refetch() {
    lastFetch = Date.now();
    const [list, nameList] = await Promise.all([api.get("/api/v1/apps"), api.get("/api/v1/app-names")]);
    if (stopped) return;
    apps.clear();
    for (const app of list.items) apps.set(app.id, app);
    names = nameList.items;
    queued.clear();
    for (const item of names) queued.set(item.name, item.queued);
    problem.hidden = true;
    render();
  }

  function refetchSoon() {
    if (refetchTimer) return;
    const wait = Math.max(0, lastFetch + REFETCH_MS - Date.now());
    refetchTimer = setTimeout(() => {
      refetchTimer = 0;
      refetch().catch(fail);
    }, wait);
  }

  function onEvents(events) {
    let changed = false;
    for (const { topic, data } of events) {
      if (topic === "app.load") {
        for (const [id, count] of Object.entries(data.in_flight)) {
          const app = apps.get(id);
          if (app) app.in_flight = count;
        }
        for (const [name, count] of Object.entries(data.queued)) queued.set(name, count);
        changed = true;
      } else if (topic === "app.state") {
        const app = apps.get(data.id);
        if (data.to === "disconnected") apps.delete(data.id);
        else if (app) app.state = data.to;
        if (!app || data.from === "connected" || data.to === "disconnected") refetchSoon(); // new details, or a name's count
        changed = true;
      } else if (topic === "app.connected") {
        apps.set(data.id, { id: data.id, name: null, state: "connected", transport: "", remote: data.remote, connected_ms: Date.now() });
        refetchSoon();
        changed = true;
      }
    }
    if (changed) render();
  }

  search.addEventListener("input", () => ((page = 0), render()));
  stateFilter.addEventListener("change", () => ((page = 0), render()));
  const unsubscribe = live.subscribe("app", onEvents, { onReset: () => refetch().catch(fail) });
  refetch().catch(fail);
  return () => {
    stopped = true;
    clearTimeout(refetchTimer);
    unsubscribe();
  };
}
