// Deployments on the deploy page: create one from an installed revision (env, and secrets that
// are sent once and never shown again), each one's state and resources live, its actions, and
// its output's tail, and where each runs (this Master, or a runner chosen by id or labels).
// Rows are kept and patched in place, so a button keeps its focus while the
// numbers move.
import { h, replace, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { confirmAction } from "./confirm.js";
import { mountLogTail } from "./deploy-log.js";
import { badge, short } from "./deploy-packages.js";

const enc = encodeURIComponent;
const REFETCH_MS = 400;
const LOCAL = "local";
const BY_LABELS = ""; // the select's value for "by labels": no runner id is empty

export const DEPLOY_STATES = {
  stopped: [N_("panel.deploy.state_stopped"), ""],
  starting: [N_("panel.deploy.state_starting"), "tone-warn"],
  running: [N_("panel.deploy.state_running"), "tone-ok"],
  backoff: [N_("panel.deploy.state_backoff"), "tone-warn"],
  stopping: [N_("panel.deploy.state_stopping"), "tone-warn"],
  exited: [N_("panel.deploy.state_exited"), ""],
  fatal: [N_("panel.deploy.state_fatal"), "tone-bad"],
  lost: [N_("panel.deploy.state_lost"), "tone-bad"],
};
const HEADS = [
  N_("panel.deploy.col_deployment"),
  N_("panel.deploy.col_state"),
  N_("panel.deploy.col_process"),
  N_("panel.deploy.col_resources"),
  N_("panel.deploy.col_settings"),
  N_("panel.deploy.col_runs_on"),
  N_("panel.deploy.col_actions"),
];

/** Read "NAME=value" lines; throws an Error that names the first line that is not one. */
export function parseEnv(t, text) {
  const values = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const at = line.indexOf("=");
    if (at < 1) throw new Error(t("panel.deploy.env_line_bad", { line }));
    values[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  return values;
}

/** mountDeployments(root, ctx) → {unmount, create(revision)} */
export function mountDeployments(root, ctx) {
  const { t, api, live, format } = ctx;
  const deployments = new Map(); // id → Deployment (+ started_at: when its uptime began, here)
  const rows = new Map(); // id → {row, update}
  let stopped = false;
  let refetchTimer = 0;
  let logs = null; // {id, unmount}

  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const tbody = h("tbody");
  const logHolder = h("div", { class: "deploy-log-holder" });
  root.append(
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("panel.deploy.deployments")),
      h("p", { class: "muted small" }, t("panel.deploy.deployments_note")),
      problem,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table table-cards deploy-table" },
          h("caption", { class: "visually-hidden" }, t("panel.deploy.deployments")),
          h("thead", {}, h("tr", {}, HEADS.map((key) => h("th", { scope: "col" }, t(key))))),
          tbody,
        ),
      ),
    ),
    logHolder,
  );

  function fail(error, where = problem) {
    if (stopped || error?.name === "AbortError") return;
    where.textContent = error.message || t("panel.shell.network_error");
    where.hidden = false;
  }

  async function act(work) {
    problem.hidden = true;
    try {
      const answer = await work();
      if (answer && answer.id) keep(answer);
      render();
    } catch (error) {
      fail(error);
    }
  }

  function keep(item) {
    item.started_at = item.uptime_s != null ? Date.now() - item.uptime_s * 1000 : null;
    deployments.set(item.id, item);
  }

  function makeRow(id) {
    const cell = (key) => h("td", { "data-label": t(key) });
    const cells = HEADS.map(cell);
    const button = (key, onclick, cls = "") => h("button", { type: "button", class: ["button button-small", cls], onclick }, t(key));
    const path = `/api/v1/deployments/${enc(id)}`;
    const start = button(N_("panel.deploy.start"), () => act(() => api.post(`${path}/start`)));
    const stop = button(N_("panel.deploy.stop"), () => act(() => api.post(`${path}/stop`)));
    const restart = button(N_("panel.deploy.restart"), () => act(() => api.post(`${path}/restart`)));
    const output = button(N_("panel.deploy.output"), () => showLogs(deployments.get(id)), "button-quiet");
    const edit = button(N_("panel.deploy.edit"), () => openForm({ existing: deployments.get(id) }), "button-quiet");
    const remove = button(
      "panel.deploy.remove",
      async () => {
        const item = deployments.get(id);
        const removed = await confirmAction(ctx, {
          title: t("panel.deploy.remove_title", { name: item.name }),
          text: t("panel.deploy.remove_explain"),
          confirm: t("panel.deploy.remove"),
          action: () => api.del(path),
        });
        if (!removed) return;
        deployments.delete(id);
        if (logs?.id === id) closeLogs();
        render();
      },
      "button-danger",
    );
    cells[HEADS.length - 1].append(h("div", { class: "button-row button-row-start" }, start, stop, restart, output, edit, remove));
    const [nameCell, stateCell, processCell, resourcesCell, settingsCell, runnerCell] = cells;
    const row = h("tr", { dataset: { deployment: id } }, cells);

    function update(item) {
      replace(nameCell,
        h("span", { class: "strong" }, item.name),
        h("div", { class: "mono small muted" }, `${item.app_id} · ${short(item.revision)}`),
      );
      replace(stateCell, badge(t, DEPLOY_STATES, item.state), item.enabled ? null : h("div", { class: "muted small" }, t("panel.deploy.disabled")));
      const facts = [];
      if (item.pid != null) facts.push(t("panel.deploy.pid", { pid: item.pid }));
      if (item.started_at != null) facts.push(t("panel.deploy.uptime", { time: format.duration((Date.now() - item.started_at) / 1000) }));
      if (item.restarts) facts.push(t("panel.deploy.restarts", { count: item.restarts }));
      if (item.exit_code != null && item.pid == null) facts.push(t("panel.deploy.exit_code", { code: item.exit_code }));
      replace(
        runnerCell,
        item.runner === LOCAL
          ? h("span", {}, t("panel.deploy.runner_local"))
          : h("span", { class: "strong" }, item.runner_name ?? t("panel.deploy.runner_gone", { id: item.runner })),
        item.labels.length ? h("div", { class: "small muted" }, t("panel.deploy.placed_by", { labels: item.labels.join(", ") })) : null,
      );
      replace(processCell, ...(facts.length ? facts.map((fact) => h("div", { class: "small" }, fact)) : [h("span", { class: "muted" }, "—")]));
      const used = item.resources;
      replace(resourcesCell,
        used
          ? h(
              "div",
              { class: "small deploy-resources" },
              h("div", {}, t("panel.deploy.cpu", { value: format.number(used.cpu_percent, 1) })),
              h("div", {}, t("panel.deploy.memory", { value: format.bytes(used.memory_bytes) })),
              h("div", {}, t("panel.deploy.children", { count: used.children })),
            )
          : h("span", { class: "muted" }, "—"),
      );
      const env = Object.keys(item.env);
      replace(settingsCell,
        h("div", { class: "small" }, t("panel.deploy.env_count", { count: env.length }), env.length ? h("span", { class: "mono muted" }, ` ${env.join(", ")}`) : null),
        h(
          "div",
          { class: "small" },
          t("panel.deploy.secret_names", { count: item.secret_names.length }),
          item.secret_names.length ? h("span", { class: "mono muted" }, ` ${item.secret_names.join(", ")}`) : null,
        ),
      );
      const active = ["starting", "running", "backoff", "stopping"].includes(item.state);
      start.disabled = active;
      stop.disabled = !active || item.state === "stopping";
    }
    return { row, update };
  }

  function render() {
    if (!deployments.size) {
      rows.clear();
      replace(tbody, h("tr", {}, h("td", { colspan: HEADS.length, class: "empty" }, t("panel.deploy.no_deployments"))));
      return;
    }
    for (const id of [...rows.keys()]) if (!deployments.has(id)) rows.delete(id);
    const ordered = [];
    for (const [id, item] of deployments) {
      if (!rows.has(id)) rows.set(id, makeRow(id));
      const kept = rows.get(id);
      kept.update(item);
      ordered.push(kept.row);
    }
    // Move rows only when the order changed: moving a focused button would lose its focus.
    const now = [...tbody.children];
    if (now.length !== ordered.length || ordered.some((row, i) => now[i] !== row)) replace(tbody, ...ordered);
  }

  async function refetch() {
    const answer = await api.get("/api/v1/deployments");
    if (stopped) return;
    deployments.clear();
    for (const item of answer.items) keep(item);
    problem.hidden = true;
    render();
  }

  function refetchSoon() {
    if (refetchTimer) return;
    refetchTimer = setTimeout(() => {
      refetchTimer = 0;
      refetch().catch(fail);
    }, REFETCH_MS);
  }

  function onEvents(events) {
    let changed = false;
    for (const { topic, data } of events) {
      const item = deployments.get(data.id);
      if (topic === "deploy.state") {
        if (item) {
          item.state = data.to;
          changed = true;
        }
        refetchSoon(); // its pid, uptime and exit code came with the change
      } else if (topic === "runners.app_state") {
        if (deployments.has(data.deployment)) refetchSoon(); // one placed on a runner moved
      } else if (topic === "deploy.resources" && item) {
        item.resources = { cpu_percent: data.cpu_percent, memory_bytes: data.memory_bytes, children: data.children };
        changed = true;
      }
    }
    if (changed) render();
  }

  function showLogs(item) {
    closeLogs();
    const unmount = mountLogTail(logHolder, ctx, item, closeLogs);
    logs = { id: item.id, unmount };
  }

  function closeLogs() {
    if (!logs) return;
    logs.unmount();
    logs = null;
    replace(logHolder);
  }

  // -- a new deployment, or a change to one ---------------------------------------------

  /** Open the form: for a new deployment of `revision`, or to change `existing` (PATCH). */
  function openForm({ revision = null, existing = null }) {
    const heading = uid("deployment-form");
    const nameId = uid("deployment-name");
    const envId = uid("deployment-env");
    const enabledId = uid("deployment-enabled");
    const runnerId = uid("deployment-runner");
    const labelsId = uid("deployment-labels");
    const current = existing ? (existing.labels.length ? BY_LABELS : existing.runner) : LOCAL;
    const runner = h(
      "select",
      { id: runnerId, class: "select" },
      h("option", { value: LOCAL, selected: current === LOCAL }, t("panel.deploy.runner_local")),
      h("option", { value: BY_LABELS, selected: current === BY_LABELS }, t("panel.deploy.runner_by_labels")),
    );
    const labels = h("input", {
      id: labelsId,
      class: "input mono",
      autocomplete: "off",
      placeholder: "gpu, linux",
      value: existing ? existing.labels.join(", ") : "",
    });
    const labelsField = h("div", { class: "field" }, h("label", { for: labelsId }, t("panel.deploy.labels")), labels, h("span", { class: "muted small" }, t("panel.deploy.labels_note")));
    const showLabels = () => {
      labelsField.hidden = runner.value !== BY_LABELS;
    };
    runner.addEventListener("change", showLabels);
    showLabels();
    // The runners known now, each by name; one placed on a revoked runner keeps its id.
    api
      .get("/api/v1/runners")
      .then((answer) => {
        const known = new Set();
        for (const item of answer.items) {
          known.add(item.id);
          const state = item.connected ? "" : ` (${t("panel.deploy.runner_offline")})`;
          runner.append(h("option", { value: item.id, selected: current === item.id }, `${item.name} · ${item.id}${state}`));
        }
        if (existing && current !== LOCAL && current !== BY_LABELS && !known.has(current)) {
          runner.append(h("option", { value: current, selected: true }, t("panel.deploy.runner_gone", { id: current })));
        }
      })
      .catch((failure) => fail(failure, error));
    const name = h("input", { id: nameId, class: "input", maxlength: "64", autocomplete: "off", placeholder: revision?.package_id });
    const envText = existing ? Object.entries(existing.env).map(([key, value]) => `${key}=${value}`).join("\n") : "";
    const env = h("textarea", { id: envId, class: "input mono", rows: "3", spellcheck: "false", placeholder: "LOG_LEVEL=info" }, envText);
    const enabled = h("input", { id: enabledId, type: "checkbox", checked: existing ? existing.enabled : true });
    const secrets = h("div", { class: "stack deploy-secrets" });
    const addSecret = h("button", { type: "button", class: "button button-small" }, t("panel.deploy.add_secret"));
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "button button-primary" }, existing ? t("panel.deploy.save") : t("panel.deploy.create"));
    const cancel = h("button", { type: "button", class: "button" }, t("panel.common.cancel"));

    function secretRow() {
      const keyId = uid("secret-name");
      const valueId = uid("secret-value");
      const key = h("input", { id: keyId, class: "input mono", autocomplete: "off", maxlength: "200" });
      const value = h("input", { id: valueId, class: "input", type: "password", autocomplete: "new-password" });
      const drop = h("button", { type: "button", class: "button button-small button-quiet" }, t("panel.deploy.drop_secret"));
      const row = h(
        "div",
        { class: "deploy-secret" },
        h("div", { class: "field" }, h("label", { for: keyId }, t("panel.deploy.secret_name")), key),
        h("div", { class: "field" }, h("label", { for: valueId }, t("panel.deploy.secret_value")), value),
        h("div", { class: "field field-end" }, drop),
      );
      drop.addEventListener("click", () => row.remove());
      secrets.append(row);
      key.focus();
    }
    addSecret.addEventListener("click", secretRow);
    runner.addEventListener("change", () => {
      error.hidden = true; // a refusal of the previous placement no longer holds
    });

    const secretsNote = existing
      ? t("panel.deploy.secrets_keep", { names: existing.secret_names.join(", ") || "—" })
      : t("panel.deploy.secrets_note");
    const form = h(
      "form",
      { method: "dialog", class: "stack" },
      h(
        "h2",
        { id: heading },
        existing ? t("panel.deploy.edit_title", { name: existing.name }) : t("panel.deploy.new_title", { id: revision.package_id, version: revision.version }),
      ),
      h("p", { class: "mono small muted deploy-wrap" }, existing ? `${existing.app_id} · ${existing.revision}` : revision.sha256),
      existing ? null : h("div", { class: "field" }, h("label", { for: nameId }, t("panel.deploy.name")), name, h("span", { class: "muted small" }, t("panel.deploy.name_note"))),
      h("div", { class: "field" }, h("label", { for: envId }, t("panel.deploy.env")), env, h("span", { class: "muted small" }, t("panel.deploy.env_note"))),
      h("fieldset", { class: "stack deploy-fieldset" }, h("legend", {}, t("panel.deploy.secrets")), h("p", { class: "muted small" }, secretsNote), secrets, h("div", {}, addSecret)),
      h("div", { class: "field" }, h("label", { for: runnerId }, t("panel.deploy.runner")), runner, h("span", { class: "muted small" }, t("panel.deploy.runner_note"))),
      labelsField,
      h("label", { class: "deploy-check", for: enabledId }, enabled, " ", existing ? t("panel.deploy.enabled") : t("panel.deploy.start_now")),
      existing ? h("p", { class: "muted small" }, t("panel.deploy.next_start")) : null,
      error,
      h("div", { class: "button-row" }, cancel, submit),
    );
    const dialog = h("dialog", { class: "dialog dialog-wide deploy-dialog", "aria-labelledby": heading }, form);
    cancel.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      let body;
      try {
        const secretValues = {};
        for (const row of secrets.querySelectorAll(".deploy-secret")) {
          const [key, value] = row.querySelectorAll("input");
          if (key.value.trim()) secretValues[key.value.trim()] = value.value;
        }
        body = { env: parseEnv(t, env.value), enabled: enabled.checked };
        // A change sends secrets only when some are given: they replace every secret there was.
        if (!existing || Object.keys(secretValues).length) body.secrets = secretValues;
        const wanted = runner.value === BY_LABELS ? { labels: labels.value.split(",").map((label) => label.trim()).filter(Boolean) } : { runner: runner.value };
        // A change sends the placement only when it moved: a new one moves the deployment.
        const before = existing ? (existing.labels.length ? { labels: existing.labels } : { runner: existing.runner }) : null;
        if (JSON.stringify(wanted) !== JSON.stringify(before)) Object.assign(body, wanted);
        if (!existing) {
          Object.assign(body, { app_id: revision.package_id, revision: revision.sha256 });
          if (name.value.trim()) body.name = name.value.trim();
        }
      } catch (failure) {
        fail(failure, error);
        return;
      }
      submit.disabled = true;
      try {
        const answer = existing
          ? await api.patch(`/api/v1/deployments/${enc(existing.id)}`, body)
          : await api.post("/api/v1/deployments", body);
        keep(answer);
        render();
        dialog.close();
      } catch (failure) {
        fail(failure, error);
      } finally {
        submit.disabled = false;
      }
    });
    dialog.addEventListener("close", () => dialog.remove()); // the secrets' values go with it
    document.body.append(dialog);
    dialog.showModal();
    (existing ? env : name).focus();
  }

  // Uptimes move on by themselves: once a second, while something runs.
  const ticker = setInterval(() => {
    if ([...deployments.values()].some((item) => item.started_at != null)) render();
  }, 1000);
  const unsubscribe = live.subscribe(["deploy.state", "deploy.resources", "runners.app_state"], onEvents, { onReset: () => refetch().catch(fail) });
  refetch().catch(fail);
  return {
    create: (revision) => openForm({ revision }),
    unmount() {
      stopped = true;
      clearTimeout(refetchTimer);
      clearInterval(ticker);
      unsubscribe();
      closeLogs();
    },
  };
}
