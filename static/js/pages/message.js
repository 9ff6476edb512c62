// One message: what it was, every delivery attempt, ack and reply on a timeline, and its trace
// as a waterfall (the kept trace, or a timeline made from its rows). Follows it live while
// it is still being delivered.
import { h } from "../dom.js";
import { N_ } from "../i18n.js";
import { chatText, deliveryBadge, kindBadge, messageBadge, replyBadge, senderText, whyPath } from "../parts/message-bits.js";
import { durationText, waterfall } from "../parts/waterfall.js";

export const title = N_("panel.message.title");

const KEPT = {
  retried: N_("panel.trace.kept_retried"),
  failed: N_("panel.trace.kept_failed"),
  expired: N_("panel.trace.kept_expired"),
  dropped: N_("panel.trace.kept_dropped"),
  unrouted: N_("panel.trace.kept_unrouted"),
  slow: N_("panel.trace.kept_slow"),
};
const RELOAD_MS = 400;

export function mount(root, ctx) {
  const { t, api, live, router, format, params } = ctx;
  const id = params.id;
  const enc = encodeURIComponent;
  let stopped = false;
  let reloadTimer = 0;

  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const status = h("span");
  const facts = h("dl", { class: "facts" });
  const content = h("div", { class: "message-content" });
  const timeline = h("ol", { class: "timeline msg-timeline" });
  const traceHead = h("div", { class: "trace-head" });
  const traceBody = h("div");
  root.append(
    h("p", {}, h("a", { href: router.href("/messages") }, `← ${t("panel.nav.messages")}`)),
    h("div", { class: "page-head" }, h("h1", {}, t("panel.message.title"), " ", status), h("a", { class: "button", href: router.href(whyPath(id)) }, t("panel.message.why"))),
    problem,
    h("div", { class: "grid grid-2" }, h("section", { class: "card" }, h("h2", {}, t("panel.message.about")), facts), h("section", { class: "card" }, h("h2", {}, t("panel.message.content")), content)),
    h("section", { class: "card" }, h("h2", {}, t("panel.message.timeline")), timeline),
    h("section", { class: "card" }, h("h2", {}, t("panel.message.trace")), traceHead, traceBody),
  );

  function fail(error) {
    if (stopped) return;
    problem.textContent = error.message;
    problem.hidden = false;
  }

  const after = (from, to) => `+${durationText(format, Math.max(0, to - from) * 1000)}`;
  const instanceLink = (instance) => (instance ? h("a", { class: "mono", href: router.href(`/apps/instance/${enc(instance)}`) }, instance) : "–");

  function renderMessage(message) {
    status.replaceChildren(messageBadge(t, message.status));
    const rows = [
      [N_("panel.message.id"), h("span", { class: "mono" }, message.id)],
      [N_("panel.message.received"), format.dateTime(message.received_ms)],
      [N_("panel.messages.platform"), message.platform],
      [N_("panel.message.driver"), h("a", { class: "mono", href: router.href(`/drivers?id=${enc(message.driver)}`) }, message.driver)],
      [N_("panel.messages.chat"), chatText(message.chat)],
      [N_("panel.messages.sender"), senderText(message.sender)],
      [N_("panel.message.locale"), message.locale || "–"],
      [N_("panel.message.platform_id"), h("span", { class: "mono" }, message.platform_message_id)],
    ];
    facts.replaceChildren(...rows.flatMap(([key, value]) => [h("dt", {}, t(key)), h("dd", {}, value)]));
    if (message.kind && message.kind !== "message") {
      // A notice or request: its kind, any text it has, and the platform's fields.
      content.replaceChildren(h("p", { class: "badge-row" }, kindBadge(message.kind)), message.content ? h("p", { class: "message-text" }, message.content) : "", h("pre", { class: "mono small segments" }, JSON.stringify(message.detail || {}, null, 2)));
    } else {
      content.replaceChildren(h("p", { class: "message-text" }, message.content || t("panel.messages.no_text")), message.segments.length > 1 || message.segments[0]?.type !== "text" ? h("pre", { class: "mono small segments" }, JSON.stringify(message.segments, null, 2)) : "");
    }
    const start = message.received_ms;
    const steps = [{ at: start, node: h("div", {}, h("strong", {}, t("panel.message.step_received")), " ", h("span", { class: "muted" }, t("panel.message.via", { platform: message.platform }))) }];
    for (const delivery of message.deliveries) {
      const bits = [h("strong", {}, t("panel.message.step_attempt", { attempt: delivery.attempt, app: delivery.app })), " ", deliveryBadge(t, delivery.status)];
      const more = [h("span", { class: "muted" }, `${t("panel.message.instance")} `), instanceLink(delivery.instance_id)];
      if (delivery.sent_ms) more.push(" · ", t("panel.message.sent_at", { after: after(start, delivery.sent_ms) }));
      if (delivery.answered_ms) more.push(" · ", t("panel.message.answered", { after: after(start, delivery.answered_ms), latency: delivery.latency_ms === null ? "–" : format.number(delivery.latency_ms, 1) }));
      if (delivery.blocked) more.push(" · ", h("span", { class: "badge tone-warn" }, t("panel.message.blocked")));
      if (delivery.error) more.push(" · ", h("span", { class: "text-bad" }, delivery.error));
      steps.push({ at: delivery.sent_ms ?? delivery.created_ms, node: h("div", {}, h("div", {}, bits), h("div", { class: "small" }, more)), kind: "delivery", app: delivery.app });
    }
    for (const reply of message.replies) {
      const more = [h("span", { class: "muted" }, `${t("panel.message.instance")} `), instanceLink(reply.instance_id)];
      if (reply.template) more.push(" · ", h("span", { class: "mono" }, reply.template));
      if (reply.done_ms) more.push(" · ", t("panel.message.done_at", { after: after(start, reply.done_ms) }));
      if (reply.error) more.push(" · ", h("span", { class: "text-bad" }, `${reply.error.code}: ${reply.error.message}`));
      steps.push({
        at: reply.created_ms,
        node: h("div", {}, h("div", {}, h("strong", {}, t("panel.message.step_reply", { app: reply.app || "?" })), " ", replyBadge(t, reply.status)), h("blockquote", { class: "reply-quote" }, reply.content), h("div", { class: "small" }, more)),
        kind: "reply",
      });
    }
    steps.sort((a, b) => a.at - b.at);
    timeline.replaceChildren(
      ...steps.map((step) => h("li", { dataset: { kind: step.kind || "received" } }, h("time", { class: "muted small", datetime: new Date(step.at).toISOString() }, `${format.time(step.at)} · ${after(start, step.at)}`), step.node)),
    );
    if (!message.deliveries.length && message.status !== "pending") {
      timeline.append(h("li", {}, h("span", { class: "muted" }, t("panel.message.no_deliveries")), " ", h("a", { href: router.href(whyPath(id)) }, t("panel.message.why"))));
    }
  }

  function renderTrace(trace) {
    const bits = [h("span", { class: "badge" }, trace.source === "trace" ? t("panel.trace.source_trace") : t("panel.trace.source_timeline"))];
    for (const reason of trace.kept) bits.push(h("span", { class: "badge tone-warn" }, t(KEPT[reason] || reason)));
    bits.push(h("span", { class: "muted small" }, t("panel.trace.total", { duration: durationText(format, trace.duration_us) }), " · ", t("panel.trace.spans", { count: trace.spans.length })));
    traceHead.replaceChildren(
      h("p", { class: "badge-row" }, bits),
      h("p", { class: "muted small" }, trace.source === "trace" ? t("panel.trace.about_trace") : t("panel.trace.about_timeline")),
    );
    traceBody.replaceChildren(trace.spans.length ? waterfall(ctx, trace) : h("p", { class: "muted" }, t("panel.trace.empty")));
  }

  async function load() {
    const [message, trace] = await Promise.all([api.get(`/api/v1/messages/${enc(id)}`), api.get(`/api/v1/messages/${enc(id)}/trace`)]);
    if (stopped) return;
    problem.hidden = true;
    renderMessage(message);
    renderTrace(trace);
  }

  function reloadSoon() {
    if (reloadTimer) return;
    reloadTimer = setTimeout(() => {
      reloadTimer = 0;
      load().catch(fail);
    }, RELOAD_MS);
  }

  const unsubscribe = live.subscribe(
    ["delivery", "reply", "message.settled", "message.unrouted"],
    (events) => {
      if (events.some(({ data }) => data.message_id === id || data.id === id)) reloadSoon();
    },
    { onReset: () => load().catch(fail) },
  );
  load().catch(fail);
  return () => {
    stopped = true;
    clearTimeout(reloadTimer);
    unsubscribe();
  };
}
