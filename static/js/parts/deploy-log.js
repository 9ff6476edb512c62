// A deployment's output, live: its last lines from REST, then every new line from the event
// stream (`log.deployment`), in a bounded virtual list that follows the newest like `tail -f`.
import { h, replace } from "../dom.js";
import { N_ } from "../i18n.js";
import { createVirtualList } from "./virtual-list.js";

const FIRST_LINES = 200;
const KEPT_LINES = 2000; // the oldest fall out: an app that prints all day costs no more
const ROW_HEIGHT = 22;
const STREAMS = {
  stdout: N_("panel.deploy.stream_stdout"),
  stderr: N_("panel.deploy.stream_stderr"),
  supervisor: N_("panel.deploy.stream_supervisor"),
};

/** mountLogTail(root, ctx, deployment, onClose) → unmount */
export function mountLogTail(root, ctx, deployment, onClose) {
  const { t, api, live, format } = ctx;
  let stopped = false;
  let next = 0; // the seq after the last line shown: events at or past it are new
  let early = []; // lines heard before the first load answered

  const newest = h("button", { type: "button", class: "button button-small", hidden: true }, t("panel.deploy.newest"));
  const count = h("span", { class: "muted small", role: "status" });
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const list = createVirtualList({
    rowHeight: ROW_HEIGHT,
    max: KEPT_LINES,
    label: t("panel.deploy.output_of", { name: deployment.name }),
    makeRow: () => h("div", { class: "deploy-log-row" }, h("span", { class: "log-time" }), h("span", { class: "deploy-log-stream" }), h("span", { class: "deploy-log-text" })),
    fillRow(row, item) {
      const [time, stream, text] = row.children;
      time.textContent = format.time(item.time_ms);
      stream.textContent = t(STREAMS[item.stream] || item.stream);
      row.dataset.stream = item.stream;
      text.textContent = item.text;
      text.title = item.text;
    },
    onFollow(following, unseen) {
      newest.hidden = following;
      newest.textContent = unseen ? t("panel.deploy.newest_count", { count: unseen }) : t("panel.deploy.newest");
    },
  });
  list.element.classList.add("deploy-log");
  newest.addEventListener("click", () => list.scrollToEnd());
  const close = h("button", { type: "button", class: "button button-small button-quiet" }, t("panel.deploy.close"));
  close.addEventListener("click", onClose);
  replace(root,
    h(
      "section",
      { class: "card", dataset: { logOf: deployment.id } },
      h("div", { class: "card-head" }, h("h2", {}, t("panel.deploy.output_of", { name: deployment.name })), h("span", { class: "button-row" }, newest, close)),
      h("p", { class: "muted small" }, t("panel.deploy.output_note", { count: KEPT_LINES })),
      problem,
      list.element,
      count,
    ),
  );

  function counted() {
    count.textContent = t("panel.deploy.lines_shown", { count: list.items().length });
  }

  async function load() {
    early = [];
    next = Infinity; // hold live lines until the load says where it ends
    const answer = await api.get(`/api/v1/deployments/${encodeURIComponent(deployment.id)}/logs`, { limit: FIRST_LINES });
    if (stopped) return;
    next = answer.next_offset;
    list.replaceAll(answer.items);
    add(early);
    early = [];
    problem.hidden = true;
  }

  function add(lines) {
    const fresh = lines.filter((line) => line.seq >= next);
    if (fresh.length) {
      next = fresh[fresh.length - 1].seq + 1;
      list.append(fresh);
    }
    counted();
  }

  function onEvents(events) {
    const lines = events
      .filter(({ data }) => data.deployment === deployment.id)
      .map(({ data }) => ({ seq: data.seq, time_ms: data.time_ms, stream: data.stream, text: data.message }));
    if (!lines.length) return;
    if (next === Infinity) early.push(...lines);
    else add(lines);
  }

  function fail(error) {
    if (stopped) return;
    problem.textContent = error.message || t("panel.shell.network_error");
    problem.hidden = false;
  }

  const unsubscribe = live.subscribe("log.deployment", onEvents, { onReset: () => load().catch(fail) });
  load().catch(fail);
  return () => {
    stopped = true;
    unsubscribe();
    list.destroy();
  };
}
