// Packages on the deploy page: upload an archive (its refusal said in full), every package with
// its revisions, and a revision's install followed live, step by step, with its output's tail.
import { h, replace, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { confirmAction } from "./confirm.js";

const enc = encodeURIComponent;
const OUTPUT_LINES = 200; // the install's tail kept on screen (the Master keeps its own)
const REFETCH_MS = 500;

export const INSTALL_STATUS = {
  none: [N_("panel.deploy.install_none"), ""],
  installing: [N_("panel.deploy.install_installing"), "tone-warn"],
  ready: [N_("panel.deploy.install_ready"), "tone-ok"],
  failed: [N_("panel.deploy.install_failed"), "tone-bad"],
};
const STEPS = {
  received: N_("panel.deploy.step_received"),
  verified: N_("panel.deploy.step_verified"),
  extracted: N_("panel.deploy.step_extracted"),
  environment: N_("panel.deploy.step_environment"),
  dependencies: N_("panel.deploy.step_dependencies"),
  ready: N_("panel.deploy.step_ready"),
  failed: N_("panel.deploy.step_failed"),
};
const REVISION_HEADS = [
  N_("panel.deploy.col_version"),
  N_("panel.deploy.col_revision"),
  N_("panel.deploy.col_uploaded"),
  N_("panel.deploy.col_install"),
  N_("panel.deploy.col_actions"),
];
const STEP_STATUS = {
  running: [N_("panel.deploy.step_running"), "tone-warn"],
  ok: [N_("panel.deploy.step_ok"), "tone-ok"],
  failed: [N_("panel.deploy.step_failed_status"), "tone-bad"],
};

export function badge(t, table, value) {
  const [key, tone] = table[value] || [value, ""];
  return h("span", { class: ["badge", tone], dataset: { value } }, t(key));
}

export const short = (sha) => sha.slice(0, 12);

/** mountPackages(root, ctx, {deploy(revision)}) → unmount */
export function mountPackages(root, ctx, { deploy }) {
  const { t, api, live, format } = ctx;
  let stopped = false;
  let refetchTimer = 0;
  let watched = null; // {package_id, sha256, version}: the install shown
  let install = null; // its InstallState, patched by events
  const known = new Set(); // the revisions listed: an upload of one of them added nothing

  const fileId = uid("package-file");
  const file = h("input", { id: fileId, class: "input", type: "file", accept: ".zip,.tar.gz,.tgz", required: true });
  const send = h("button", { type: "submit", class: "button button-primary" }, t("panel.deploy.upload"));
  const bar = h("progress", { class: "upload-bar", max: "1", value: "0" });
  const figures = h("span", { class: "upload-figures" });
  const progress = h("div", { class: "upload-progress", hidden: true }, bar, figures);
  const uploaded = h("p", { class: "form-ok", role: "status" });
  const refused = h("p", { class: "form-error deploy-refusal", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "toolbar deploy-upload" },
    h("div", { class: "field" }, h("label", { for: fileId }, t("panel.deploy.package_file")), file),
    h("div", { class: "field field-end" }, send),
  );
  const list = h("div", { class: "stack" });
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const installCard = h("section", { class: "card deploy-install", hidden: true, "aria-live": "polite" });

  root.append(
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("panel.deploy.packages")),
      h("p", { class: "muted small" }, t("panel.deploy.packages_note")),
      form,
      progress,
      uploaded,
      refused,
      problem,
      list,
    ),
    installCard,
  );

  function fail(error, where = problem) {
    if (stopped || error?.name === "AbortError") return;
    where.textContent = error.message || t("panel.shell.network_error");
    where.hidden = false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    if (!chosen) return;
    refused.hidden = true;
    uploaded.textContent = "";
    send.disabled = true;
    progress.hidden = false;
    bar.max = Math.max(chosen.size, 1);
    const shown = (sent) => {
      bar.value = sent;
      figures.textContent = t("panel.deploy.upload_progress", { sent: format.bytes(sent), size: format.bytes(chosen.size) });
    };
    shown(0);
    try {
      const revision = await api.send("POST", "/api/v1/packages", { blob: chosen, onProgress: shown });
      shown(chosen.size);
      file.value = "";
      const params = { id: revision.package_id, version: revision.version };
      uploaded.textContent = known.has(revision.sha256) ? t("panel.deploy.uploaded_before", params) : t("panel.deploy.uploaded", params);
      await refetch();
    } catch (error) {
      progress.hidden = true;
      fail(error, refused);
    } finally {
      send.disabled = false;
    }
  });

  function revisionRow(pkg, revision) {
    const actions = h("div", { class: "button-row button-row-start" });
    const installing = revision.install_status === "installing";
    const start = h(
      "button",
      { type: "button", class: "button button-small", disabled: installing },
      revision.install_status === "none" ? t("panel.deploy.install") : t("panel.deploy.install_again"),
    );
    start.addEventListener("click", async () => {
      problem.hidden = true;
      try {
        show(revision, await api.post(`/api/v1/packages/${enc(pkg.id)}/revisions/${revision.sha256}/install`));
        // Steps that went before the answer came were in no event this page took: read them.
        await watch(revision);
        refetchSoon();
      } catch (error) {
        fail(error);
      }
    });
    actions.append(start);
    if (revision.install_status !== "none") {
      const look = h("button", { type: "button", class: "button button-small button-quiet" }, t("panel.deploy.show_install"));
      look.addEventListener("click", () => watch(revision).catch(fail));
      actions.append(look);
    }
    const drop = h("button", { type: "button", class: "button button-small button-danger", disabled: installing }, t("panel.deploy.delete"));
    drop.addEventListener("click", async () => {
      const done = await confirmAction(ctx, {
        title: t("panel.deploy.delete_title", { id: pkg.id, version: revision.version }),
        text: t("panel.deploy.delete_explain"),
        confirm: t("panel.deploy.delete"),
        action: () => api.del(`/api/v1/packages/${enc(pkg.id)}/revisions/${revision.sha256}`),
      });
      if (!done) return;
      if (watched?.sha256 === revision.sha256) {
        installCard.hidden = true;
        watched = install = null;
      }
      await refetch().catch(fail);
    });
    if (revision.installed) {
      const go = h("button", { type: "button", class: "button button-small button-primary" }, t("panel.deploy.deploy"));
      go.addEventListener("click", () => deploy(revision));
      actions.append(go);
    }
    actions.append(drop);
    const cell = (key, ...content) => h("td", { "data-label": t(key) }, ...content);
    return h(
      "tr",
      { dataset: { revision: revision.sha256 } },
      cell(REVISION_HEADS[0], h("span", { class: "strong" }, revision.version)),
      cell(REVISION_HEADS[1], h("span", { class: "mono small", title: revision.sha256 }, short(revision.sha256))),
      cell(REVISION_HEADS[2], format.dateTime(revision.uploaded_ms), h("div", { class: "muted small" }, format.bytes(revision.size))),
      cell(REVISION_HEADS[3], badge(t, INSTALL_STATUS, revision.install_status)),
      cell(REVISION_HEADS[4], actions),
    );
  }

  function render(packages) {
    known.clear();
    for (const pkg of packages) for (const revision of pkg.revisions) known.add(revision.sha256);
    if (!packages.length) {
      replace(list, h("p", { class: "empty muted" }, t("panel.deploy.no_packages")));
      return;
    }
    replace(list,
      ...packages.map((pkg) =>
        h(
          "div",
          { class: "deploy-package", dataset: { package: pkg.id } },
          h("h3", {}, pkg.name, " ", h("span", { class: "mono small muted" }, pkg.id)),
          pkg.description ? h("p", { class: "muted small" }, pkg.description) : null,
          h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "table table-cards" },
              h("caption", { class: "visually-hidden" }, t("panel.deploy.revisions_of", { name: pkg.name })),
              h("thead", {}, h("tr", {}, REVISION_HEADS.map((key) => h("th", { scope: "col" }, t(key))))),
              h("tbody", {}, pkg.revisions.map((revision) => revisionRow(pkg, revision))),
            ),
          ),
        ),
      ),
    );
  }

  async function refetch() {
    const answer = await api.get("/api/v1/packages");
    if (stopped) return;
    problem.hidden = true;
    render(answer.items);
  }

  function refetchSoon() {
    clearTimeout(refetchTimer);
    refetchTimer = setTimeout(() => refetch().catch(fail), REFETCH_MS);
  }

  // -- one install, followed -------------------------------------------------------------

  async function watch(revision) {
    const state = await api.get(`/api/v1/packages/${enc(revision.package_id)}/revisions/${revision.sha256}/install`);
    show(revision, state);
  }

  function show(revision, state) {
    watched = revision;
    install = { ...state, lines: state.output ? state.output.split("\n").filter((line) => line !== "") : [] };
    drawInstall();
    installCard.hidden = false;
  }

  function drawInstall() {
    if (!install) return;
    const close = h("button", { type: "button", class: "button button-small button-quiet" }, t("panel.deploy.close"));
    close.addEventListener("click", () => {
      installCard.hidden = true;
      watched = install = null;
    });
    const output = h("pre", { class: "deploy-output", tabindex: "0", "aria-label": t("panel.deploy.install_output") }, install.lines.slice(-OUTPUT_LINES).join("\n"));
    replace(installCard,
      h(
        "div",
        { class: "card-head" },
        h("h2", {}, t("panel.deploy.install_of", { id: watched.package_id, version: watched.version })),
        h("span", {}, badge(t, INSTALL_STATUS, install.status), " ", close),
      ),
      h("p", { class: "mono small muted" }, watched.sha256),
      h(
        "ol",
        { class: "deploy-steps" },
        install.steps.map((step) =>
          h(
            "li",
            { dataset: { step: step.step } },
            h("span", { class: "strong" }, t(STEPS[step.step] || step.step)),
            " ",
            badge(t, STEP_STATUS, step.status),
            step.detail ? h("span", { class: "muted small deploy-step-detail" }, step.detail) : null,
          ),
        ),
      ),
      install.error ? h("p", { class: "form-error" }, install.error) : null,
      h("h3", {}, t("panel.deploy.install_output")),
      output,
    );
    output.scrollTop = output.scrollHeight;
  }

  const drawSoon = (() => {
    let frame = 0;
    return () => {
      if (!frame) frame = requestAnimationFrame(() => ((frame = 0), drawInstall()));
    };
  })();

  function onEvents(events) {
    for (const { topic, data } of events) {
      const mine = install && watched && data.revision === watched.sha256;
      if (topic === "deploy.install") {
        refetchSoon(); // a badge in the list changes
        if (!mine) continue;
        const entry = { step: data.step, status: data.status, at_ms: data.at_ms, detail: data.detail };
        const at = install.steps.findIndex((step) => step.step === entry.step);
        if (at >= 0) install.steps[at] = entry;
        else install.steps.push(entry);
        if (data.step === "ready" && data.status === "ok") install.status = "ready";
        else if (data.status === "failed") {
          install.status = "failed";
          watch(watched).catch(fail); // the error's words
        } else install.status = "installing";
        drawSoon();
      } else if (topic === "deploy.output" && mine) {
        install.lines.push(data.line);
        if (install.lines.length > OUTPUT_LINES) install.lines.splice(0, install.lines.length - OUTPUT_LINES);
        drawSoon();
      }
    }
  }

  const unsubscribe = live.subscribe(["deploy.install", "deploy.output"], onEvents, {
    onReset: () => {
      refetch().catch(fail);
      if (watched) watch(watched).catch(fail);
    },
  });
  refetch().catch(fail);
  return () => {
    stopped = true;
    clearTimeout(refetchTimer);
    unsubscribe();
  };
}
