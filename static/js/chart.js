// Small charts drawn by the panel itself, in SVG: live lines over a time window, columns per
// bucket, and horizontal bars for rankings. Colours come from CSS (--series-N), so a theme
// switch needs no redraw; figures show on hover, focus, or a tap.
import { h, s, perFrame } from "./dom.js";

const W = 600;
const H = 160;
const PAD = 6;

/** A round ceiling for an axis: 7 → 10, 130 → 200, 0 → 1. */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= value);
  return step * power;
}

function nearest(points, time) {
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid].t < time) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(points[lo - 1].t - time) < Math.abs(points[lo].t - time)) lo -= 1;
  return lo;
}

/** The frame every chart shares: title, legend, plot, axis labels, tooltip. */
function frame(root, title, legendItems) {
  const legend = h("ul", { class: "chart-legend" }, legendItems);
  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`,
    preserveAspectRatio: "none",
    class: "chart-svg",
    "aria-hidden": "true",
  });
  const top = h("span", { class: "chart-axis chart-axis-top" });
  const bottom = h("span", { class: "chart-axis chart-axis-bottom" });
  const tip = h("div", { class: "chart-tip", role: "status", hidden: true });
  const plot = h("div", { class: "chart-plot", tabindex: "0" }, svg, top, bottom, tip);
  const start = h("span");
  const end = h("span");
  const figure = h(
    "figure",
    { class: "chart" },
    h("figcaption", { class: "chart-head" }, h("span", { class: "chart-title" }, title), legend),
    plot,
    h("div", { class: "chart-x" }, start, end),
  );
  root.append(figure);
  return { figure, svg, plot, tip, top, bottom, start, end, legend };
}

/** Follow the pointer (or arrow keys) over a plot; `show(index)` / `hide()` draw the cursor. */
function hover(plot, count, indexAt, show, hide) {
  let index = -1;
  const move = (event) => {
    const box = plot.getBoundingClientRect();
    index = indexAt((event.clientX - box.left) / box.width);
    if (index >= 0) show(index);
  };
  plot.addEventListener("pointermove", move);
  plot.addEventListener("pointerdown", move);
  plot.addEventListener("pointerleave", () => hide());
  plot.addEventListener("blur", () => hide());
  plot.addEventListener("focus", () => {
    index = count() - 1;
    if (index >= 0) show(index);
  });
  plot.addEventListener("keydown", (event) => {
    const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
    if (!step || !count()) return;
    event.preventDefault();
    index = Math.min(count() - 1, Math.max(0, (index < 0 ? count() : index) + step));
    show(index);
  });
}

function placeTip(tip, plot, fraction, lines) {
  tip.replaceChildren(...lines.map((line) => h("div", {}, line)));
  tip.hidden = false;
  // CSSOM, not a style attribute: allowed by the page's Content-Security-Policy.
  const left = Math.min(Math.max(fraction, 0.12), 0.88);
  tip.style.left = `${left * 100}%`;
}

/**
 * lineChart(root, {title, series: [{key, label}], windowMs, max, format, time})
 * → {set(points), push(point)} where a point is {t, [key]: value}.
 */
export function lineChart(root, { title, series, windowMs = 600000, max, format, time }) {
  const values = series.map(() => h("span", { class: "chart-value" }, "–"));
  const items = series.map((one, i) =>
    h("li", { class: `chart-key series-${i + 1}` }, h("span", { class: "chart-swatch" }), one.label, " ", values[i]),
  );
  const ui = frame(root, title, items);
  const grid = s("path", { class: "chart-grid", d: `M0 ${H / 2}H${W}M0 ${PAD}H${W}`, "vector-effect": "non-scaling-stroke" });
  const paths = series.map((_, i) =>
    s("path", { class: `chart-line series-${i + 1}`, "vector-effect": "non-scaling-stroke" }),
  );
  const cursor = s("path", { class: "chart-cursor", "vector-effect": "non-scaling-stroke" });
  ui.svg.append(grid, ...paths, cursor);
  let points = [];
  let top = 1;
  let span = windowMs;

  const x = (t, end) => W - ((end - t) / span) * W;
  const y = (v) => H - PAD - (Math.max(0, v) / top) * (H - 2 * PAD);

  const draw = perFrame(() => {
    const end = points.length ? points[points.length - 1].t : Date.now();
    points = points.filter((p) => p.t >= end - windowMs);
    // Until the window has filled, the lines span what there is (a minute at least).
    span = Math.min(windowMs, Math.max(60000, end - (points.length ? points[0].t : end)));
    ui.start.textContent = time(end - span);
    ui.end.textContent = time(end);
    top = max ?? niceMax(Math.max(0, ...points.flatMap((p) => series.map((one) => p[one.key] ?? 0))));
    series.forEach((one, i) => {
      const d = points
        .filter((p) => p[one.key] !== undefined && p[one.key] !== null)
        .map((p, j) => `${j ? "L" : "M"}${x(p.t, end).toFixed(1)} ${y(p[one.key]).toFixed(1)}`)
        .join("");
      paths[i].setAttribute("d", d);
      const last = points.length ? points[points.length - 1][one.key] : undefined;
      values[i].textContent = last === undefined || last === null ? "–" : format(last);
    });
    ui.top.textContent = format(top);
    ui.bottom.textContent = format(0);
  });

  hover(
    ui.plot,
    () => points.length,
    (fraction) => {
      if (!points.length) return -1;
      const end = points[points.length - 1].t;
      return nearest(points, end - span + fraction * span);
    },
    (index) => {
      const p = points[index];
      const end = points[points.length - 1].t;
      const px = x(p.t, end);
      cursor.setAttribute("d", `M${px} 0V${H}`);
      const lines = [time(p.t), ...series.map((one) => `${one.label}: ${format(p[one.key] ?? 0)}`)];
      placeTip(ui.tip, ui.plot, px / W, lines);
    },
    () => {
      cursor.setAttribute("d", "");
      ui.tip.hidden = true;
    },
  );

  return {
    set(next) {
      points = next.slice();
      draw();
    },
    push(point) {
      points.push(point);
      draw();
    },
  };
}

/**
 * columnChart(root, {title, label, format, time}) → {set(points)} with points [{t, count}].
 */
export function columnChart(root, { title, label, format, time }) {
  const total = h("span", { class: "chart-value" }, "–");
  const ui = frame(root, title, [h("li", { class: "chart-key series-1" }, h("span", { class: "chart-swatch" }), label, " ", total)]);
  const bars = s("g", { class: "chart-columns series-1" });
  const cursor = s("rect", { class: "chart-column-cursor", height: H, width: 0, y: 0 });
  ui.svg.append(cursor, bars);
  let points = [];

  hover(
    ui.plot,
    () => points.length,
    (fraction) => (points.length ? Math.min(points.length - 1, Math.floor(fraction * points.length)) : -1),
    (index) => {
      const width = W / points.length;
      cursor.setAttribute("x", index * width);
      cursor.setAttribute("width", width);
      placeTip(ui.tip, ui.plot, (index + 0.5) / points.length, [time(points[index].t), `${label}: ${format(points[index].count)}`]);
    },
    () => {
      cursor.setAttribute("width", 0);
      ui.tip.hidden = true;
    },
  );

  return {
    set(next) {
      points = next;
      const top = niceMax(Math.max(0, ...points.map((p) => p.count)));
      const width = W / Math.max(points.length, 1);
      const gap = Math.min(2, width * 0.2);
      bars.replaceChildren(
        ...points.map((p, i) => {
          const height = (p.count / top) * (H - PAD);
          return s("rect", { x: i * width + gap / 2, y: H - height, width: width - gap, height });
        }),
      );
      total.textContent = format(points.reduce((sum, p) => sum + p.count, 0));
      ui.top.textContent = format(top);
      ui.bottom.textContent = format(0);
      ui.start.textContent = points.length ? time(points[0].t) : "";
      ui.end.textContent = points.length ? time(points[points.length - 1].t) : "";
    },
  };
}

/**
 * barList(root, {title, format, empty}) → {set(items)} with items [{label, value, detail?}]:
 * a ranking as bars; each row's figure shows on hover or focus.
 */
export function barList(root, { title, format, empty }) {
  const list = h("ol", { class: "bars" });
  const figure = h("figure", { class: "chart" }, h("figcaption", { class: "chart-head" }, h("span", { class: "chart-title" }, title)), list);
  root.append(figure);
  return {
    set(items) {
      if (!items.length) {
        list.replaceChildren(h("li", { class: "bars-empty" }, empty));
        return;
      }
      const top = Math.max(...items.map((item) => item.value), 1);
      list.replaceChildren(
        ...items.map((item) => {
          const fill = h("span", { class: "bar-fill" });
          fill.style.width = `${Math.max(1, (item.value / top) * 100)}%`;
          const figureText = format(item.value);
          return h(
            "li",
            { class: "bar-row", tabindex: "0", title: `${item.label}: ${figureText}` },
            h("span", { class: "bar-label" }, item.label, item.detail ? h("small", {}, ` ${item.detail}`) : null),
            h("span", { class: "bar-track" }, fill),
            h("span", { class: "bar-value" }, figureText),
          );
        }),
      );
    },
  };
}

/** meter(root, {title}) → {set(used, total, text)}: one share as a bar, e.g. disk use. */
export function meter(root, { title }) {
  const fill = h("span", { class: "bar-fill" });
  const text = h("span", { class: "meter-text" });
  const track = h("span", { class: "bar-track meter-track", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100" }, fill);
  root.append(h("figure", { class: "chart meter" }, h("figcaption", { class: "chart-head" }, h("span", { class: "chart-title" }, title)), track, text));
  return {
    set(used, total, label) {
      const share = total > 0 ? (used / total) * 100 : 0;
      fill.style.width = `${Math.min(100, share)}%`;
      fill.classList.toggle("bar-warn", share >= 85);
      track.setAttribute("aria-valuenow", share.toFixed(0));
      text.textContent = label;
    },
  };
}
