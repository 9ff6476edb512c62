// Runners on the deploy page: every runner with its state (a lost one stands out), its last
// heartbeat and its apps; enrolment tokens (the secret shown once, with a copy button); and
// revoking a runner, asked first.
import { h, replace, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { confirmAction } from "./confirm.js";
import { badge } from "./deploy-packages.js";
import { copyText } from "./message-bits.js";
import { cardTable } from "./card-table.js";

const enc = encodeURIComponent;
const REFETCH_MS = 400;
const RUNNER_STATES = {
  online: [N_("panel.deploy.runner_online"), "tone-ok"],
  lost: [N_("panel.deploy.runner_lost"), "tone-bad"],
  offline: [N_("panel.deploy.runner_offline"), ""],
};
const APP_TONES = { running: "tone-ok", lost: "tone-bad", fatal: "tone-bad", failed: "tone-bad", starting: "tone-warn", backoff: "tone-warn" };
const HEADS = [N_("panel.deploy.col_runner"), N_("panel.deploy.col_state"), N_("panel.deploy.col_heartbeat"), N_("panel.deploy.col_apps"), N_("panel.deploy.col_actions")];
const TOKEN_HEADS = [N_("panel.deploy.col_token"), N_("panel.deploy.col_created"), N_("panel.deploy.col_used"), N_("panel.deploy.col_actions")];

/** mountRunners(root, ctx) → unmount */
export function mountRunners(root, ctx) {
  const { t, api, live, format } = ctx;
  let stopped = false;
  let refetchTimer = 0;
  const names = new Map(); // runner id → name, for the tokens that enrolled them

  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const tbody = h("tbody");
  const tokensBody = h("tbody");
  const nameId = uid("enrolment-name");
  const tokenName = h("input", { id: nameId, class: "input", maxlength: "100", autocomplete: "off", required: true });
  const tokenProblem = h("p", { class: "form-error", role: "alert", hidden: true });
  const createForm = h(
    "form",
    { class: "toolbar token-form" },
    h("div", { class: "field" }, h("label", { for: nameId }, t("panel.deploy.enrolment_name")), tokenName),
    h("div", { class: "field field-end" }, h("button", { type: "submit", class: "button button-primary" }, t("panel.deploy.create_enrolment"))),
  );
  const table = (heads, body, caption) => cardTable(t, heads, body, caption);
  root.append(
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("panel.deploy.runners")),
      h("p", { class: "muted small" }, t("panel.deploy.runners_note")),
      problem,
      table(HEADS, tbody, t("panel.deploy.runners")),
      h("h3", {}, t("panel.deploy.enrolments")),
      h("p", { class: "muted small" }, t("panel.deploy.enrolments_note")),
      createForm,
      tokenProblem,
      table(TOKEN_HEADS, tokensBody, t("panel.deploy.enrolments")),
    ),
  );

  function fail(error, where = problem) {
    if (stopped || error?.name === "AbortError") return;
    where.textContent = error.message || t("panel.shell.network_error");
    where.hidden = false;
  }

  const cell = (key, ...content) => h("td", { "data-label": t(key) }, ...content);

  function runnerRow(runner) {
    const revoke = h("button", { type: "button", class: "button button-small button-danger" }, t("panel.deploy.revoke"));
    revoke.addEventListener("click", async () => {
      const done = await confirmAction(ctx, {
        title: t("panel.deploy.revoke_title", { name: runner.name }),
        text: t("panel.deploy.revoke_explain"),
        confirm: t("panel.deploy.revoke"),
        action: () => api.del(`/api/v1/runners/${enc(runner.id)}`),
      });
      if (done) refetch().catch(fail);
    });
    const lost = runner.state === "lost";
    const heard = runner.last_heartbeat_ms ?? runner.last_seen_ms;
    return h(
      "tr",
      { dataset: { runner: runner.id }, class: lost ? "deploy-lost" : null },
      cell(
        HEADS[0],
        h("span", { class: "strong" }, runner.name),
        h("div", { class: "muted small" }, [runner.host, [runner.os, runner.arch].filter(Boolean).join("/"), runner.version].filter(Boolean).join(" · ")),
        h("div", { class: "mono small muted deploy-wrap" }, runner.id),
      ),
      cell(HEADS[1], badge(t, RUNNER_STATES, runner.state), lost ? h("div", { class: "small text-bad" }, t("panel.deploy.lost_note")) : null),
      cell(HEADS[2], heard ? format.dateTime(heard) : t("panel.deploy.never")),
      cell(
        HEADS[3],
        runner.apps.length
          ? h(
              "ul",
              { class: "plain-list" },
              runner.apps.map((app) => h("li", { class: "small" }, h("span", { class: "mono" }, app.deployment), " ", h("span", { class: ["badge", APP_TONES[app.state] || ""] }, app.state))),
            )
          : h("span", { class: "muted" }, t("panel.deploy.no_apps")),
      ),
      cell(HEADS[4], revoke),
    );
  }

  async function refetch() {
    const answer = await api.get("/api/v1/runners");
    if (stopped) return;
    problem.hidden = true;
    for (const runner of answer.items) names.set(runner.id, runner.name);
    replace(tbody,
      ...(answer.items.length ? answer.items.map(runnerRow) : [h("tr", {}, h("td", { colspan: HEADS.length, class: "empty" }, t("panel.deploy.no_runners")))]),
    );
  }

  async function loadTokens() {
    const answer = await api.get("/api/v1/runner-enrolments");
    if (stopped) return;
    if (!answer.items.length) {
      replace(tokensBody, h("tr", {}, h("td", { colspan: TOKEN_HEADS.length, class: "empty" }, t("panel.deploy.no_enrolments"))));
      return;
    }
    replace(tokensBody,
      ...answer.items.map((item) => {
        const remove = h("button", { type: "button", class: "button button-small button-danger" }, t("panel.deploy.revoke_token"));
        remove.addEventListener("click", async () => {
          const done = await confirmAction(ctx, {
            title: t("panel.deploy.revoke_token_title", { name: item.name }),
            text: t("panel.deploy.revoke_token_explain"),
            confirm: t("panel.deploy.revoke_token"),
            action: () => api.del(`/api/v1/runner-enrolments/${enc(item.id)}`),
          });
          if (done) loadTokens().catch((error) => fail(error, tokenProblem));
        });
        return h(
          "tr",
          { dataset: { enrolment: item.id } },
          cell(TOKEN_HEADS[0], h("span", { class: "strong" }, item.name)),
          cell(TOKEN_HEADS[1], format.dateTime(item.created_ms)),
          cell(TOKEN_HEADS[2], h("span", { class: "deploy-wrap" }, item.used_ms ? t("panel.deploy.used_by", { time: format.dateTime(item.used_ms), runner: names.get(item.runner_id) || item.runner_id || "" }) : t("panel.deploy.unused"))),
          cell(TOKEN_HEADS[3], item.used_ms ? h("span", { class: "muted" }, "—") : remove),
        );
      }),
    );
  }

  function showToken(created) {
    const heading = uid("enrolment");
    const fieldId = uid("enrolment-token");
    const value = h("input", { id: fieldId, class: "input mono secret-value", readonly: true, value: created.token });
    const copied = h("span", { class: "muted small", role: "status" });
    const copy = h("button", { type: "button", class: "button" }, t("panel.deploy.copy"));
    const done = h("button", { type: "submit", class: "button button-primary" }, t("panel.deploy.done"));
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": heading },
      h(
        "form",
        { method: "dialog", class: "stack" },
        h("h2", { id: heading }, t("panel.deploy.token_title", { name: created.name })),
        h("p", { class: "notice notice-warn" }, t("panel.deploy.token_once")),
        h("div", { class: "field" }, h("label", { for: fieldId }, t("panel.deploy.token")), h("div", { class: "copy-row" }, value, copy)),
        h("p", { class: "muted small" }, t("panel.deploy.token_use")),
        copied,
        h("div", { class: "button-row" }, done),
      ),
    );
    copy.addEventListener("click", async () => {
      copied.textContent = (await copyText(created.token, value)) ? t("panel.deploy.copied") : t("panel.deploy.copy_failed");
    });
    dialog.addEventListener("close", () => dialog.remove()); // the secret goes with it
    document.body.append(dialog);
    dialog.showModal();
    value.select();
  }

  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    tokenProblem.hidden = true;
    try {
      const created = await api.post("/api/v1/runner-enrolments", { name: tokenName.value });
      tokenName.value = "";
      showToken(created);
      await loadTokens();
    } catch (error) {
      fail(error, tokenProblem);
    }
  });

  function refetchSoon() {
    if (refetchTimer) return;
    refetchTimer = setTimeout(() => {
      refetchTimer = 0;
      refetch().catch(fail).finally(() => loadTokens().catch((error) => fail(error, tokenProblem)));
    }, REFETCH_MS);
  }

  const unsubscribe = live.subscribe("runners", refetchSoon, { onReset: () => refetchSoon() });
  refetch().catch(fail).finally(() => loadTokens().catch((error) => fail(error, tokenProblem)));
  return () => {
    stopped = true;
    clearTimeout(refetchTimer);
    unsubscribe();
  };
}
