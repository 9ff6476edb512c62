// Apps: every live instance and every app name, updated from the event stream without a
// reload. Instances and names come a page at a time (a fleet of 1 000 renders 50 rows); rows are
// kept and patched in place, so a button keeps the keyboard focus while the numbers move. Events
// only mark what changed and the page redraws at most four times a second; the list is sorted
// again only when an instance comes, goes or changes state, not for every load figure. One
// click listener per table serves every row, so rows come and go without listeners of their own.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { STATES, actions, kickWithReason, stateBadge, subscriptionText } from "../parts/app-actions.js";
import { coalesce } from "../parts/coalesce.js";
import { cardTable } from "../parts/card-table.js";

export const title = N_("panel.apps.title");

const PAGE_SIZE = 50;
const REFETCH_MS = 1000; // new instances and names: at most one reload a second
const DRAW_EVERY_MS = 250;

export function mount(root, ctx) {
  const { t, api, live, router, format } = ctx;
  const apps = new Map(); // id → instance, as GET /api/v1/apps answers (+ live patches)
  let names = []; // GET /api/v1/app-names
  const queued = new Map(); // name → messages waiting
  const rows = new Map(); // id → {row, update, app}: the instances on screen only
  const nameRows = new Map(); // name → {row, update, item}: the names on screen only
  let sorted = null; // the filtered, ordered instances; null when it must be made again
  let page = 0;
  let namesPage = 0;
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
  const namesBody = h("tbody");
  const pagerOf = (turn) => {
    const previous = h("button", { type: "button", class: "button button-small", onclick: () => turn(-1) }, t("panel.common.previous"));
    const where = h("span", { class: "muted" });
    const next = h("button", { type: "button", class: "button button-small", onclick: () => turn(1) }, t("panel.common.next"));
    const element = h("div", { class: "pager" }, previous, where, next);
    return {
      element,
      set(at, pages, first, last, total) {
        previous.disabled = at === 0;
        next.disabled = at >= pages - 1;
        where.textContent = t("panel.common.range", { first, last, total });
        element.hidden = total <= PAGE_SIZE;
      },
    };
  };
  const pager = pagerOf((step) => ((page += step), draw.now()));
  const namesPager = pagerOf((step) => ((namesPage += step), draw.now()));
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
  const table = (heads, body, caption) => cardTable(t, heads, body, caption);

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
      pager.element,
    ),
    h("section", { class: "card" }, h("h2", {}, t("panel.apps.names")), table(nameHeaders, namesBody, t("panel.apps.names")), namesPager.element),
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
    const kick = h("button", { type: "button", class: "button button-small button-danger", dataset: { action: "kick" } }, t("panel.apps.kick"));
    cells[8].append(h("div", { class: "button-row" }, toggle, kick));
    cells[5].className = "clip";
    const row = h("tr", { dataset: { id } }, cells);
    const entry = { row, app: null, update };
    const drawn = {}; // what the cells show, so an unchanged figure costs no DOM write
    function put(key, value, write) {
      if (key in drawn && drawn[key] === value) return;
      drawn[key] = value;
      write(value);
    }
    function update(app) {
      entry.app = app;
      put("name", app.name, () => {
        nameLink.textContent = app.name || t("panel.apps.unregistered");
        nameLink.href = app.name ? router.href(`/apps/name/${encodeURIComponent(app.name)}`) : router.href(`/apps/instance/${encodeURIComponent(id)}`);
        idLink.textContent = id;
        idLink.href = router.href(`/apps/instance/${encodeURIComponent(id)}`);
      });
      put("state", `${app.state}/${Boolean(app.held)}`, () => {
        cells[1].replaceChildren(stateBadge(t, app.state), app.held ? h("span", { class: "badge badge-held" }, t("panel.apps.held")) : "");
        toggle.textContent = app.state === "scheduling" ? t("panel.apps.pause") : t("panel.apps.resume");
        toggle.disabled = !["scheduling", "paused"].includes(app.state);
        toggle.dataset.action = app.state === "scheduling" ? "pause" : "resume";
      });
      put("transport", app.transport, (value) => (cells[2].textContent = value));
      put("version", app.version ?? "–", (value) => (cells[3].textContent = value));
      put("priority", app.priority ?? "–", (value) => (cells[4].textContent = value));
      put("subscribe", subscriptionText(app.subscribe), (text) => {
        cells[5].textContent = text || t("panel.apps.everything");
        cells[5].title = text;
      });
      put("in_flight", app.in_flight ?? 0, (value) => (cells[6].textContent = format.number(value)));
      put("queued", queued.get(app.name) ?? 0, (value) => (cells[7].textContent = format.number(value)));
    }
    return entry;
  }

  function nameRow(name) {
    const cells = nameHeaders.map((key) => h("td", { "data-label": t(key) }));
    cells[0].append(h("a", { href: router.href(`/apps/name/${encodeURIComponent(name)}`), class: "strong" }, name));
    const button = h("button", { type: "button", class: "button button-small" });
    cells[4].append(button);
    const row = h("tr", { dataset: { name } }, cells);
    const entry = { row, item: null, update };
    let drawn = "";
    function update(item) {
      entry.item = item;
      const count = queued.get(item.name) ?? item.queued;
      const key = JSON.stringify([item.instances, item.held, item.away, item.away_since_ms, count]);
      if (key === drawn) return;
      drawn = key;
      const status = [];
      if (item.held) status.push(h("span", { class: "badge badge-held" }, t("panel.apps.held")));
      if (item.away) status.push(h("span", { class: "badge badge-away", title: item.away_since_ms ? format.dateTime(item.away_since_ms) : "" }, t("panel.apps.away")));
      if (!status.length) status.push(h("span", { class: "muted" }, item.instances ? t("panel.apps.present") : t("panel.apps.gone")));
      cells[1].textContent = format.number(item.instances);
      cells[2].replaceChildren(h("span", { class: "badge-row" }, status));
      cells[3].textContent = format.number(count);
      button.dataset.action = item.held ? "release" : "hold";
      button.textContent = item.held ? t("panel.apps.release") : t("panel.apps.hold");
    }
    return entry;
  }

  // One listener per table: a button finds its row's instance or name when clicked.
  tbody.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    const entry = button && rows.get(button.closest("tr")?.dataset.id);
    if (!entry || button.disabled) return;
    const app = entry.app;
    if (button.dataset.action === "kick") act(() => kickWithReason(ctx, app));
    else
      act(async () => {
        const changed = await (button.dataset.action === "pause" ? actions.pause : actions.resume)(api, app.id);
        patch(changed);
      });
  });
  namesBody.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    const entry = button && nameRows.get(button.closest("tr")?.dataset.name);
    if (!entry) return;
    const item = entry.item;
    act(async () => {
      await (item.held ? actions.release : actions.hold)(api, item.name);
      await refetch();
    });
  });

  /** Put `entries` in `body` in this order, moving rows only when the order changed (a moved
   * row would lose the keyboard focus). */
  function place(body, ordered) {
    const same = ordered.length === body.children.length && ordered.every((row, i) => body.children[i] === row);
    if (!same) body.replaceChildren(...ordered);
  }

  function filtered() {
    if (sorted) return sorted;
    const needle = search.value.trim().toLowerCase();
    const state = stateFilter.value;
    sorted = [...apps.values()]
      .filter((app) => (!state || app.state === state) && (!needle || (app.name || "").toLowerCase().includes(needle) || app.id.includes(needle)))
      .sort((a, b) => (a.name || "").localeCompare(b.name || "") || a.connected_ms - b.connected_ms);
    return sorted;
  }

  function drawInstances() {
    const list = filtered();
    const pages = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
    page = Math.max(0, Math.min(page, pages - 1));
    const shown = list.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    const wanted = new Set(shown.map((app) => app.id));
    for (const id of rows.keys()) if (!wanted.has(id)) rows.delete(id);
    const ordered = shown.map((app) => {
      let entry = rows.get(app.id);
      if (!entry) rows.set(app.id, (entry = instanceRow(app.id)));
      entry.update(app);
      return entry.row;
    });
    if (list.length) place(tbody, ordered);
    else tbody.replaceChildren(h("tr", {}, h("td", { colspan: headers.length, class: "empty" }, apps.size ? t("panel.apps.no_match") : t("panel.apps.none"))));
    const counts = { scheduling: 0, paused: 0 };
    for (const app of apps.values()) if (app.state in counts) counts[app.state] += 1;
    summary.textContent = t("panel.apps.summary", { total: apps.size, scheduling: counts.scheduling, paused: counts.paused });
    const first = list.length ? page * PAGE_SIZE + 1 : 0;
    pager.set(page, pages, first, page * PAGE_SIZE + shown.length, list.length);
  }

  function drawNames() {
    if (!names.length) {
      nameRows.clear();
      namesBody.replaceChildren(h("tr", {}, h("td", { colspan: nameHeaders.length, class: "empty" }, t("panel.apps.no_names"))));
      namesPager.set(0, 1, 0, 0, 0);
      return;
    }
    const pages = Math.ceil(names.length / PAGE_SIZE);
    namesPage = Math.max(0, Math.min(namesPage, pages - 1));
    const shown = names.slice(namesPage * PAGE_SIZE, (namesPage + 1) * PAGE_SIZE);
    const wanted = new Set(shown.map((item) => item.name));
    for (const name of nameRows.keys()) if (!wanted.has(name)) nameRows.delete(name);
    place(
      namesBody,
      shown.map((item) => {
        let entry = nameRows.get(item.name);
        if (!entry) nameRows.set(item.name, (entry = nameRow(item.name)));
        entry.update(item);
        return entry.row;
      }),
    );
    namesPager.set(namesPage, pages, namesPage * PAGE_SIZE + 1, namesPage * PAGE_SIZE + shown.length, names.length);
  }

  const draw = coalesce(() => {
    drawInstances();
    drawNames();
  }, DRAW_EVERY_MS);

  function patch(app) {
    const known = apps.get(app.id);
    apps.set(app.id, { ...known, ...app });
    sorted = null;
    draw.now();
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
    sorted = null;
    problem.hidden = true;
    draw.now();
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
        sorted = null; // membership or state: the filter and the order may change
        changed = true;
      } else if (topic === "app.connected") {
        apps.set(data.id, { id: data.id, name: null, state: "connected", transport: "", remote: data.remote, connected_ms: Date.now() });
        refetchSoon();
        sorted = null;
        changed = true;
      }
    }
    if (changed) draw();
  }

  const refilter = () => {
    page = 0;
    sorted = null;
    draw.now();
  };
  search.addEventListener("input", refilter);
  stateFilter.addEventListener("change", refilter);
  const unsubscribe = live.subscribe("app", onEvents, { onReset: () => refetch().catch(fail) });
  refetch().catch(fail);
  return () => {
    stopped = true;
    clearTimeout(refetchTimer);
    draw.cancel();
    unsubscribe();
  };
}
