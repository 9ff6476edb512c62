// The routing of one message explained name by name (GET /api/v1/messages/{id}/routing and
// POST /api/v1/routing/explain): the verdict first, then a card per app name saying whether
// it gets the message and why — a failing filter is a red row with what it wanted and saw.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { deliveryBadge } from "./message-bits.js";

const OUTCOMES = {
  receives: N_("panel.why.outcome_receives"),
  waits: N_("panel.why.outcome_waits"),
  blocked: N_("panel.why.outcome_blocked"),
  not_scheduled: N_("panel.why.outcome_not_scheduled"),
  no_match: N_("panel.why.outcome_no_match"),
};
const TONES = { receives: "ok", waits: "warn", blocked: "warn", not_scheduled: "warn", no_match: "bad" };
const RANK = { receives: 0, waits: 1, blocked: 2, not_scheduled: 3, no_match: 4 };
const STATUSES = {
  scheduling: N_("panel.state.scheduling"),
  paused: N_("panel.state.paused"),
  held: N_("panel.apps.held"),
  away: N_("panel.apps.away"),
  gone: N_("panel.apps.gone"),
};

/** The name at a higher level that stops this one (registered with block: true). */
function blockerOf(explanation, entry) {
  const byName = new Map(explanation.names.map((item) => [item.name, item]));
  for (const [level, names] of explanation.levels.entries()) {
    if (level >= entry.level) break;
    const blocking = names.find((name) => byName.get(name)?.block);
    if (blocking) return blocking;
  }
  return "?";
}

function failedFilters(entry) {
  const failed = new Set();
  for (const target of entry.targets) for (const check of target.filters) if (!check.matched) failed.add(check.filter);
  return [...failed];
}

/** Why a name (does not) get the message, in one sentence of the panel's language. */
export function reason(t, explanation, entry) {
  switch (entry.outcome) {
    case "receives":
      return t("panel.why.why_receives", { priority: entry.priority, level: entry.level + 1 });
    case "waits":
      return t("panel.why.why_waits", { priority: entry.priority, queued: entry.queued });
    case "blocked":
      return t("panel.why.why_blocked", { priority: entry.priority, blocker: blockerOf(explanation, entry) });
    case "not_scheduled":
      return entry.status === "held" ? t("panel.why.why_held") : t("panel.why.why_paused");
    default: {
      const failed = failedFilters(entry);
      if (failed.length) return t("panel.why.why_no_match", { filters: failed.join(", ") });
      return t("panel.why.why_nothing");
    }
  }
}

function checksTable(t, target) {
  if (!target.filters.length) return h("p", { class: "muted small" }, t("panel.why.everything"));
  const heads = [N_("panel.why.col_filter"), N_("panel.why.col_wanted"), N_("panel.why.col_seen"), N_("panel.why.col_result")];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "table table-cards why-checks" },
      h("thead", {}, h("tr", {}, heads.map((key) => h("th", { scope: "col" }, t(key))))),
      h(
        "tbody",
        {},
        target.filters.map((check) =>
          h(
            "tr",
            { class: check.matched ? "check-ok" : "check-failed", dataset: { filter: check.filter, matched: String(check.matched) } },
            h("td", { "data-label": t(heads[0]) }, h("span", { class: "mono strong" }, check.filter)),
            h("td", { "data-label": t(heads[1]) }, h("span", { class: "mono" }, check.wanted.join(", "))),
            h("td", { "data-label": t(heads[2]) }, h("span", { class: "mono" }, check.seen)),
            h(
              "td",
              { "data-label": t(heads[3]) },
              h("span", { class: "check-verdict" }, h("span", { "aria-hidden": "true" }, check.matched ? "✓ " : "✗ "), check.matched ? t("panel.why.matches") : t("panel.why.fails")),
            ),
          ),
        ),
      ),
    ),
  );
}

function targetBlock(ctx, target) {
  const { t, router } = ctx;
  const title = target.instance_id
    ? h("a", { class: "mono", href: router.href(`/apps/instance/${encodeURIComponent(target.instance_id)}`) }, target.instance_id)
    : h("span", {}, t("panel.why.left_behind"));
  const facts = [t("panel.why.priority", { priority: target.priority })];
  if (target.block) facts.push(t("panel.why.blocks"));
  return h(
    "div",
    { class: ["why-target", target.matched ? "" : "why-target-failed"] },
    h("p", { class: "why-target-head small" }, h("span", { class: "muted" }, t("panel.why.instance")), " ", title, h("span", { class: "muted" }, ` · ${facts.join(" · ")}`)),
    checksTable(t, target),
  );
}

function pickBlock(ctx, pick) {
  const { t, format } = ctx;
  const loads = Object.entries(pick.loads);
  const fewest = loads.length ? Math.min(...loads.map(([, n]) => n)) : 0;
  const ties = loads.filter(([, n]) => n === fewest).length;
  const text = pick.id === null
    ? t("panel.why.pick_full")
    : ties > 1
      ? t("panel.why.pick_tie", { count: fewest, ties })
      : t("panel.why.pick_fewest", { count: fewest });
  return h(
    "div",
    { class: "why-pick" },
    h("p", {}, h("strong", {}, t("panel.why.chosen")), " ", pick.id ? h("span", { class: "mono" }, pick.id) : "–", h("br"), h("span", { class: "small" }, text)),
    loads.length > 1
      ? h("ul", { class: "plain-list small" }, loads.map(([id, n]) => h("li", {}, h("span", { class: "mono" }, id), " · ", t("panel.why.unacked", { count: n }))))
      : "",
  );
}

function nameCard(ctx, explanation, entry, delivery, focused) {
  const { t, router } = ctx;
  const headingId = uid("why");
  return h(
    "section",
    { class: ["card", "why-name", `why-${entry.outcome}`, focused ? "why-focused" : ""], "aria-labelledby": headingId, dataset: { name: entry.name, outcome: entry.outcome } },
    h(
      "div",
      { class: "why-name-head" },
      h("h3", { id: headingId }, h("a", { href: router.href(`/apps/name/${encodeURIComponent(entry.name)}`) }, entry.name)),
      h("span", { class: "badge-row" }, h("span", { class: `badge why-outcome tone-${TONES[entry.outcome]}` }, t(OUTCOMES[entry.outcome])), h("span", { class: "badge" }, t(STATUSES[entry.status] || entry.status))),
    ),
    h("p", { class: "why-reason" }, reason(t, explanation, entry)),
    delivery
      ? h("p", { class: "small" }, h("span", { class: "muted" }, t("panel.why.when_it_came")), " ", deliveryBadge(t, delivery.status), " · ", t("panel.why.attempts", { count: delivery.attempts }), delivery.blocked ? ` · ${t("panel.why.it_blocked")}` : "", delivery.error ? ` · ${delivery.error}` : "")
      : "",
    entry.instance ? pickBlock(ctx, entry.instance) : "",
    entry.targets.map((target) => targetBlock(ctx, target)),
  );
}

/**
 * routingView(ctx, explanation, {focus, onFocus}) → an element: the verdict, a chooser of the
 * app the operator asks about, and one card per name (the chosen one first).
 */
export function routingView(ctx, explanation, { focus = "", onFocus = () => {} } = {}) {
  const { t } = ctx;
  const byName = new Map(explanation.names.map((entry) => [entry.name, entry]));
  const delivered = new Map(explanation.deliveries.map((item) => [item.app, item]));
  const verdict = explanation.unrouted
    ? h("p", { class: "why-verdict tone-warn" }, t("panel.why.verdict_unrouted"))
    : h(
        "div",
        { class: "why-verdict tone-ok" },
        h("p", {}, t("panel.why.verdict_levels")),
        h(
          "ol",
          { class: "why-levels" },
          explanation.levels.map((names, level) =>
            h("li", {}, h("span", { class: "muted" }, t("panel.why.level", { level: level + 1, priority: byName.get(names[0])?.priority ?? "?" })), " ", names.map((name) => h("span", { class: `badge tone-${TONES[byName.get(name)?.outcome] || "plain"}` }, name))),
          ),
        ),
      );
  const names = [...new Set([...byName.keys(), ...delivered.keys()])].sort();
  const chooserId = uid("app");
  const chooser = h(
    "select",
    { id: chooserId, class: "select", onchange: (event) => onFocus(event.target.value) },
    h("option", { value: "" }, t("panel.why.every_app")),
    names.map((name) => h("option", { value: name, selected: name === focus }, name)),
  );
  const focused = byName.get(focus);
  let answer = "";
  if (focus && focused) {
    answer = h("p", { class: `why-answer tone-${TONES[focused.outcome]}`, role: "status" }, h("strong", {}, focus), ": ", reason(t, explanation, focused));
  } else if (focus) {
    answer = h("p", { class: "why-answer tone-bad", role: "status" }, t("panel.why.unknown_app", { name: focus }));
  }
  const entries = [...explanation.names].sort((a, b) => (b.name === focus) - (a.name === focus) || RANK[a.outcome] - RANK[b.outcome] || a.name.localeCompare(b.name));
  return h(
    "div",
    { class: "why" },
    h("div", { class: "card" }, verdict, h("div", { class: "field why-chooser" }, h("label", { for: chooserId }, t("panel.why.which_app")), chooser), answer),
    entries.length ? entries.map((entry) => nameCard(ctx, explanation, entry, delivered.get(entry.name), entry.name === focus)) : h("p", { class: "card muted" }, t("panel.why.no_names")),
  );
}
