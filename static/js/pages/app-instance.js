// One app instance: what it registered with, its state live, and every transition it went
// through (also for instances that have gone).
import { h } from "../dom.js";
import { N_ } from "../i18n.js";
import { actions, kickWithReason, stateBadge, subscriptionText } from "../parts/app-actions.js";

export const title = N_("panel.instance.title");

export function mount(root, ctx) {
  const { t, api, live, router, format, params } = ctx;
  const id = params.id;
  let app = null;
  let stopped = false;
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const facts = h("dl", { class: "facts" });
  const buttons = h("div", { class: "button-row" });
  const history = h("ol", { class: "timeline" });
  const heading = h("h1", {}, t("panel.instance.title"));
  root.append(
    h("p", {}, h("a", { href: router.href("/apps") }, `← ${t("panel.nav.apps")}`)),
    h("div", { class: "page-head" }, heading, buttons),
    problem,
    h("div", { class: "grid grid-2" }, h("section", { class: "card" }, h("h2", {}, t("panel.instance.registration")), facts), h("section", { class: "card" }, h("h2", {}, t("panel.instance.transitions")), history)),
  );

  function fail(error) {
    if (stopped) return;
    problem.textContent = error.message;
    problem.hidden = false;
  }

  function render() {
    heading.textContent = app.name || id;
    const rows = [
      [N_("panel.instance.id"), h("span", { class: "mono" }, app.id)],
      [N_("panel.apps.col_state"), stateBadge(t, app.state)],
      [N_("panel.apps.col_version"), app.version ?? "–"],
      [N_("panel.apps.col_transport"), app.transport],
      [N_("panel.instance.remote"), app.remote],
      [N_("panel.apps.col_priority"), app.priority ?? "–"],
      [N_("panel.apps.col_subscription"), subscriptionText(app.subscribe || app.subscription) || t("panel.apps.everything")],
      [N_("panel.apps.col_in_flight"), format.number(app.in_flight ?? 0)],
      [N_("panel.instance.connected"), format.dateTime(app.connected_ms)],
    ];
    if (app.disconnected_ms) rows.push([N_("panel.instance.disconnected"), format.dateTime(app.disconnected_ms)]);
    facts.replaceChildren(...rows.flatMap(([key, value]) => [h("dt", {}, t(key)), h("dd", {}, value)]));
    history.replaceChildren(
      ...[...(app.transitions || [])].reverse().map((step) =>
        h("li", {}, h("time", { class: "muted small" }, format.dateTime(step.at_ms)), h("div", {}, stateBadge(t, step.from), " → ", stateBadge(t, step.to)), h("div", { class: "small" }, step.reason)),
      ),
    );
    const steerable = ["scheduling", "paused"].includes(app.state);
    buttons.replaceChildren(
      steerable
        ? h("button", { type: "button", class: "button", onclick: () => act(app.state === "scheduling" ? actions.pause : actions.resume) }, app.state === "scheduling" ? t("panel.apps.pause") : t("panel.apps.resume"))
        : "",
      app.state !== "disconnected" ? h("button", { type: "button", class: "button button-danger", onclick: () => kickWithReason(ctx, app).then((kicked) => kicked && load()) }, t("panel.apps.kick")) : "",
    );
  }

  async function act(action) {
    try {
      await action(api, id);
      await load();
    } catch (error) {
      fail(error);
    }
  }

  async function load() {
    const answer = await api.get(`/api/v1/apps/${encodeURIComponent(id)}`);
    if (stopped) return;
    app = answer;
    problem.hidden = true;
    render();
  }

  const unsubscribe = live.subscribe(
    "app.state",
    (events) => {
      if (events.some((event) => event.data.id === id)) load().catch(fail);
    },
    { onReset: () => load().catch(fail) },
  );
  load().catch(fail);
  return () => {
    stopped = true;
    unsubscribe();
  };
}
