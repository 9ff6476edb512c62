// The dashboard: the machine and the message flow live (from the event stream's system
// samples), then the statistics kept in SQL, refreshed once a minute while the tab is shown.
import { barList, columnChart, lineChart, meter } from "../chart.js";
import { h } from "../dom.js";
import { N_ } from "../i18n.js";

export const title = N_("panel.dashboard.title");

const HOUR = 3600000;
const DAY = 24 * HOUR;
const STATS_EVERY_MS = 60000; // statistics buckets are per minute: no point asking more often

/** The figures of a system sample the live charts draw (as GET /api/v1/system/history). */
function point(sample) {
  return {
    t: sample.time_ms,
    cpu: sample.cpu.machine_percent,
    process: sample.cpu.process_percent,
    memory: sample.memory.machine_percent,
    rss: sample.memory.process_rss_bytes,
    apps: sample.connections.apps.total,
    drivers: sample.connections.drivers.total,
    rate: sample.messages_per_second,
  };
}

function historyPoint(item) {
  return {
    t: item.time_ms,
    cpu: item.cpu_percent,
    process: item.process_cpu_percent,
    memory: item.memory_percent,
    rss: item.process_rss_bytes,
    apps: item.apps,
    drivers: item.drivers,
    rate: item.messages_per_second,
  };
}

function section(titleText, ...children) {
  return h("section", { class: "dash-section" }, h("h2", {}, titleText), ...children);
}

export function mount(root, ctx) {
  const { t, api, live, format } = ctx;
  const percent = (v) => format.percent(v, 1);
  const liveGrid = h("div", { class: "grid grid-charts" });
  const flowGrid = h("div", { class: "grid grid-charts" });
  const usageGrid = h("div", { class: "grid grid-charts" });
  const peopleGrid = h("div", { class: "grid grid-charts" });
  const tiles = h("div", { class: "tiles" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  root.append(
    h("div", { class: "page-head" }, h("h1", {}, t("panel.dashboard.title")), error),
    tiles,
    section(t("panel.dashboard.live"), liveGrid),
    section(t("panel.dashboard.flow"), flowGrid),
    section(t("panel.dashboard.usage"), usageGrid),
    section(t("panel.dashboard.people"), peopleGrid),
  );

  const charts = {
    cpu: lineChart(liveGrid, {
      title: t("panel.dashboard.cpu"),
      series: [
        { key: "cpu", label: t("panel.dashboard.machine") },
        { key: "process", label: t("panel.dashboard.master") },
      ],
      max: 100,
      format: percent,
      time: format.time,
    }),
    memory: lineChart(liveGrid, {
      title: t("panel.dashboard.memory"),
      series: [{ key: "memory", label: t("panel.dashboard.machine") }],
      max: 100,
      format: percent,
      time: format.time,
    }),
    connections: lineChart(liveGrid, {
      title: t("panel.dashboard.connections"),
      series: [
        { key: "apps", label: t("panel.dashboard.apps") },
        { key: "drivers", label: t("panel.dashboard.drivers") },
      ],
      format: (v) => format.number(v),
      time: format.time,
    }),
    rate: lineChart(liveGrid, {
      title: t("panel.dashboard.messages_per_second"),
      series: [{ key: "rate", label: t("panel.dashboard.messages") }],
      format: (v) => format.rate(v),
      time: format.time,
    }),
    hourly: columnChart(flowGrid, {
      title: t("panel.dashboard.per_hour"),
      label: t("panel.dashboard.messages"),
      format: (v) => format.number(v),
      time: format.hour,
    }),
    daily: columnChart(flowGrid, {
      title: t("panel.dashboard.per_day"),
      label: t("panel.dashboard.messages"),
      format: (v) => format.number(v),
      time: format.day,
    }),
    apps: barList(usageGrid, { title: t("panel.dashboard.calls_per_app"), format: (v) => format.number(v), empty: t("panel.dashboard.nothing_yet") }),
    commands: barList(usageGrid, { title: t("panel.dashboard.calls_per_command"), format: (v) => format.number(v), empty: t("panel.dashboard.nothing_yet") }),
    chats: barList(peopleGrid, { title: t("panel.dashboard.top_chats"), format: (v) => format.number(v), empty: t("panel.dashboard.nothing_yet") }),
    senders: barList(peopleGrid, { title: t("panel.dashboard.top_senders"), format: (v) => format.number(v), empty: t("panel.dashboard.nothing_yet") }),
  };
  const storageBox = h("div", { class: "chart-stack" });
  usageGrid.append(storageBox);
  const disk = meter(storageBox, { title: t("panel.dashboard.disk") });
  const storageFacts = h("dl", { class: "facts" });
  storageBox.append(h("figure", { class: "chart" }, h("figcaption", { class: "chart-head" }, h("span", { class: "chart-title" }, t("panel.dashboard.database"))), storageFacts));

  const tile = (label) => {
    const value = h("span", { class: "tile-value" }, "–");
    tiles.append(h("div", { class: "tile" }, h("span", { class: "tile-label" }, label), value));
    return value;
  };
  const figures = {
    today: tile(t("panel.dashboard.today")),
    dau: tile(t("panel.dashboard.dau")),
    wau: tile(t("panel.dashboard.wau")),
    mau: tile(t("panel.dashboard.mau")),
    uptime: tile(t("panel.dashboard.uptime")),
  };

  let stopped = false;
  const controller = new AbortController();
  const options = { signal: controller.signal };

  function failed(reason) {
    if (stopped || reason.name === "AbortError") return;
    error.textContent = reason.message || t("panel.shell.network_error");
    error.hidden = false;
  }

  function pushSample(sample) {
    const p = point(sample);
    for (const key of ["cpu", "memory", "connections", "rate"]) charts[key].push(p);
    figures.uptime.textContent = format.duration(sample.master.uptime_s);
  }

  async function loadHistory() {
    const [history, system] = await Promise.all([
      api.get("/api/v1/system/history", undefined, options),
      api.get("/api/v1/system", undefined, options),
    ]);
    const points = history.items.map(historyPoint);
    for (const key of ["cpu", "memory", "connections", "rate"]) charts[key].set(points);
    pushSample(system);
  }

  async function loadStats() {
    const now = Date.now();
    const [overview, hourly, daily, apps, commands, chats, senders] = await Promise.all([
      api.get("/api/v1/stats/overview", undefined, options),
      api.get("/api/v1/stats/messages", { interval: "hour", from: now - 48 * HOUR, to: now }, options),
      api.get("/api/v1/stats/messages", { interval: "day", from: now - 30 * DAY, to: now }, options),
      api.get("/api/v1/stats/apps", undefined, options),
      api.get("/api/v1/stats/commands", undefined, options),
      api.get("/api/v1/stats/top-chats", { limit: 8 }, options),
      api.get("/api/v1/stats/top-senders", { limit: 8 }, options),
    ]);
    if (stopped) return;
    error.hidden = true;
    figures.today.textContent = format.number(overview.today.messages);
    figures.dau.textContent = format.number(overview.active_senders.dau);
    figures.wau.textContent = format.number(overview.active_senders.wau);
    figures.mau.textContent = format.number(overview.active_senders.mau);
    charts.hourly.set(hourly.points);
    charts.daily.set(daily.points);
    const top = (items, label, value) => items.slice(0, 8).map((item) => ({ ...label(item), value: value(item) }));
    charts.apps.set(top([...apps.items].sort((a, b) => b.deliveries - a.deliveries), (item) => ({ label: item.app }), (item) => item.deliveries));
    charts.commands.set(
      top([...commands.items].sort((a, b) => b.deliveries - a.deliveries), (item) => ({ label: item.command || "–", detail: item.app }), (item) => item.deliveries),
    );
    charts.chats.set(top(chats.items, (item) => ({ label: item.chat_id, detail: `${item.platform} · ${item.chat_type}` }), (item) => item.count));
    charts.senders.set(top(senders.items, (item) => ({ label: item.name || item.sender_id, detail: item.platform }), (item) => item.count));
    const { database: db, data_dir: dir } = overview.storage;
    if (dir.disk) {
      disk.set(dir.disk.used_bytes, dir.disk.total_bytes, t("panel.dashboard.disk_used", { used: format.bytes(dir.disk.used_bytes), total: format.bytes(dir.disk.total_bytes) }));
    }
    storageFacts.replaceChildren(
      h("dt", {}, t("panel.dashboard.database_size")),
      h("dd", {}, format.bytes(db.bytes ?? 0)),
      h("dt", {}, t("panel.dashboard.data_dir_size")),
      h("dd", {}, t("panel.dashboard.files", { size: format.bytes(dir.bytes), files: dir.files })),
      h("dt", {}, t("panel.dashboard.disk_free")),
      h("dd", {}, dir.disk ? format.bytes(dir.disk.free_bytes) : "–"),
    );
  }

  loadHistory().catch(failed);
  loadStats().catch(failed);
  const every = setInterval(() => {
    if (!document.hidden) loadStats().catch(failed);
  }, STATS_EVERY_MS);
  const unsubscribe = live.subscribe(
    "system.sample",
    (events) => {
      for (const event of events) pushSample(event.data);
    },
    { onReset: () => loadHistory().catch(failed) },
  );

  return () => {
    stopped = true;
    controller.abort();
    clearInterval(every);
    unsubscribe();
  };
}
