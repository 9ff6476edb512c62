// A trace as a waterfall, drawn here in HTML: one row per span, indented by its depth, its bar
// placed by its offset and length within the whole trace. A row opens to show its attributes.
import { h, uid } from "../dom.js";

/** A duration in microseconds, in the unit that reads best. */
export function durationText(format, us) {
  if (us >= 1_000_000) return `${format.number(us / 1_000_000, 2)} s`;
  if (us >= 10_000) return `${format.number(us / 1000, 0)} ms`;
  return `${format.number(us / 1000, 2)} ms`;
}

function details(t, format, span) {
  const rows = [];
  if (span.status_message) rows.push([t("panel.trace.status_message"), span.status_message]);
  for (const [key, value] of Object.entries(span.attributes || {})) {
    rows.push([key, typeof value === "string" ? value : JSON.stringify(value)]);
  }
  for (const event of span.events || []) {
    rows.push([`+${durationText(format, event.offset_us)}`, [event.name, event.attributes ? ` ${JSON.stringify(event.attributes)}` : ""].join("")]);
  }
  if (!rows.length) return h("p", { class: "muted small" }, t("panel.trace.no_attributes"));
  return h("dl", { class: "facts wf-facts" }, rows.flatMap(([key, value]) => [h("dt", { class: "mono" }, key), h("dd", { class: "mono" }, value)]));
}

/** waterfall(ctx, trace) → an element; `trace` as GET /api/v1/messages/{id}/trace answers. */
export function waterfall({ t, format }, trace) {
  const total = Math.max(1, trace.duration_us);
  const list = h("ol", { class: "waterfall", "aria-label": t("panel.trace.waterfall") });
  for (const span of trace.spans) {
    const left = (span.offset_us / total) * 100;
    const width = Math.max(0.4, (span.duration_us / total) * 100);
    const bar = h("span", { class: ["wf-bar", span.status === "error" ? "wf-error" : ""] });
    // CSSOM, not a style attribute: allowed by the page's Content-Security-Policy.
    bar.style.left = `${Math.min(left, 99.6)}%`;
    bar.style.width = `${Math.min(width, 100 - Math.min(left, 99.6))}%`;
    const panelId = uid("span");
    const panel = h("div", { id: panelId, class: "wf-details", hidden: true }, details(t, format, span));
    const label = h(
      "button",
      { type: "button", class: "wf-label", "aria-expanded": "false", "aria-controls": panelId },
      h("span", { class: "wf-name" }, span.name),
      h("span", { class: "wf-duration" }, durationText(format, span.duration_us)),
    );
    label.style.paddingLeft = `${0.4 + Math.min(span.depth, 8) * 0.9}rem`;
    label.addEventListener("click", () => {
      const open = panel.hidden;
      panel.hidden = !open;
      label.setAttribute("aria-expanded", String(open));
    });
    const track = h("span", { class: "wf-track", title: `+${durationText(format, span.offset_us)} · ${durationText(format, span.duration_us)}` }, bar);
    list.append(h("li", { class: "wf-row", dataset: { span: span.name, status: span.status } }, label, track, panel));
  }
  const axis = h("div", { class: "wf-axis", "aria-hidden": "true" }, h("span", {}, "0"), h("span", {}, durationText(format, total / 2)), h("span", {}, durationText(format, total)));
  return h("div", { class: "wf" }, axis, list);
}
