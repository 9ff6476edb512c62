// One app name: its statistics per hour over the last two days (deliveries, replies, retries,
// failures), and its live instances.
import { columnChart } from "../chart.js";
import { h } from "../dom.js";
import { N_ } from "../i18n.js";
import { stateBadge } from "../parts/app-actions.js";

export const title = N_("panel.name.title");

const COUNTERS = {
  deliveries: N_("panel.name.deliveries"),
  replies: N_("panel.name.replies"),
  retries: N_("panel.name.retries"),
  failed: N_("panel.name.failed"),
};

export function mount(root, ctx) {
  const { t, api, live, router, format, params } = ctx;
  const name = params.name;
  let stopped = false;
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const grid = h("div", { class: "grid grid-charts" });
  const instances = h("ul", { class: "plain-list" });
  root.append(
    h("p", {}, h("a", { href: router.href("/apps") }, `← ${t("panel.nav.apps")}`)),
    h("div", { class: "page-head" }, h("h1", {}, name), h("p", { class: "muted" }, t("panel.name.last_48h"))),
    problem,
    grid,
    h("section", { class: "card" }, h("h2", {}, t("panel.name.instances")), instances),
  );
  const charts = Object.fromEntries(
    Object.entries(COUNTERS).map(([key, label]) => [key, columnChart(grid, { title: t(label), label: t(label), format: (v) => format.number(v), time: format.hour })]),
  );

  function fail(error) {
    if (stopped) return;
    problem.textContent = error.message;
    problem.hidden = false;
  }

  async function loadStats() {
    const now = Date.now();
    const stats = await api.get(`/api/v1/stats/apps/${encodeURIComponent(name)}`, { interval: "hour", from: now - 48 * 3600000, to: now });
    if (stopped) return;
    for (const key of Object.keys(COUNTERS)) charts[key].set(stats.series[key] || []);
  }

  async function loadInstances() {
    const list = await api.get("/api/v1/apps", { name });
    if (stopped) return;
    instances.replaceChildren(
      ...(list.items.length
        ? list.items.map((app) => h("li", {}, stateBadge(t, app.state), " ", h("a", { class: "mono", href: router.href(`/apps/instance/${encodeURIComponent(app.id)}`) }, app.id), " ", h("span", { class: "muted small" }, `${app.transport} · ${app.version ?? ""}`)))
        : [h("li", { class: "muted" }, t("panel.name.no_instances"))]),
    );
  }

  const unsubscribe = live.subscribe("app.state", (events) => {
    if (events.some((event) => event.data.name === name)) loadInstances().catch(fail);
  });
  loadStats().catch((error) => {
    if (error.status === 404) problem.textContent = t("panel.name.no_stats");
    else fail(error);
    problem.hidden = false;
  });
  loadInstances().catch(fail);
  return () => {
    stopped = true;
    unsubscribe();
  };
}
