// API tokens for scripts: list (never their secrets), create with a scope — the secret is shown
// once, right after — and delete, which stops the token at once.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { confirmAction } from "./confirm.js";

const COLS = [N_("panel.tokens.col_name"), N_("panel.tokens.col_scope"), N_("panel.tokens.col_created"), N_("panel.tokens.col_used"), N_("panel.tokens.col_actions")];
const SCOPES = { read: N_("panel.tokens.scope_read"), admin: N_("panel.tokens.scope_admin") };

export function mount(root, ctx) {
  const { t, api, format } = ctx;
  let stopped = false;
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const tbody = h("tbody");
  const nameId = uid("token");
  const scopeId = uid("token");
  const name = h("input", { id: nameId, class: "input", autocomplete: "off", maxlength: "100", required: true });
  const scope = h("select", { id: scopeId, class: "select" }, Object.entries(SCOPES).map(([value, key]) => h("option", { value }, t(key))));
  const formError = h("p", { class: "form-error", role: "alert", hidden: true });
  const secretBox = h("div", { class: "notice notice-warn secret-box", role: "status", hidden: true });
  const form = h(
    "form",
    { class: "toolbar" },
    h("div", { class: "field" }, h("label", { for: nameId }, t("panel.tokens.name")), name),
    h("div", { class: "field" }, h("label", { for: scopeId }, t("panel.tokens.scope")), scope),
    h("div", { class: "toolbar-buttons" }, h("button", { type: "submit", class: "button button-primary" }, t("panel.tokens.create"))),
  );

  function fail(error) {
    if (stopped) return;
    problem.textContent = error.message || t("panel.shell.network_error");
    problem.hidden = false;
  }

  function showSecret(created) {
    const value = h("code", { class: "mono secret-value" }, created.token);
    const copy = h("button", { type: "button", class: "button button-small" }, t("panel.tokens.copy"));
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(created.token);
        copy.textContent = t("panel.tokens.copied");
      } catch {
        // No clipboard (plain http): select the text for a manual copy.
        getSelection().selectAllChildren(value);
      }
    });
    secretBox.replaceChildren(
      h("strong", {}, t("panel.tokens.secret_title", { name: created.name })),
      h("p", {}, t("panel.tokens.secret_once")),
      h("div", { class: "secret-row" }, value, copy),
      h("div", { class: "button-row" }, h("button", { type: "button", class: "button button-small", onclick: () => (secretBox.hidden = true) }, t("panel.tokens.secret_done"))),
    );
    secretBox.hidden = false;
    copy.focus();
  }

  async function load() {
    const list = await api.get("/api/v1/tokens");
    if (stopped) return;
    problem.hidden = true;
    if (!list.items.length) {
      tbody.replaceChildren(h("tr", {}, h("td", { colspan: COLS.length, class: "empty" }, t("panel.tokens.none"))));
      return;
    }
    tbody.replaceChildren(
      ...list.items.map((item) => {
        const remove = h("button", { type: "button", class: "button button-small button-danger" }, t("panel.tokens.delete"));
        remove.addEventListener("click", async () => {
          const gone = await confirmAction(ctx, {
            title: t("panel.tokens.delete_title", { name: item.name }),
            text: t("panel.tokens.delete_text"),
            confirm: t("panel.tokens.delete"),
            action: () => api.del(`/api/v1/tokens/${encodeURIComponent(item.id)}`),
          });
          if (gone) load().catch(fail);
        });
        const cells = [
          h("span", { class: "strong" }, item.name),
          h("span", { class: ["badge", item.scope === "admin" ? "badge-held" : null] }, t(SCOPES[item.scope] || item.scope)),
          format.dateTime(item.created_ms),
          item.last_used_ms ? format.dateTime(item.last_used_ms) : h("span", { class: "muted" }, t("panel.tokens.never")),
          remove,
        ];
        return h("tr", { dataset: { token: item.id } }, cells.map((cell, i) => h("td", { "data-label": t(COLS[i]) }, h("div", { class: "cell" }, cell))));
      }),
    );
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.hidden = true;
    try {
      const created = await api.post("/api/v1/tokens", { name: name.value, scope: scope.value });
      form.reset();
      showSecret(created);
      await load();
    } catch (failure) {
      formError.textContent = failure.message || t("panel.shell.network_error");
      formError.hidden = false;
    }
  });

  root.append(
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("panel.tokens.title")),
      h("p", { class: "muted small" }, t("panel.tokens.intro")),
      problem,
      secretBox,
      h(
        "div",
        { class: "table-wrap" },
        h("table", { class: "table table-cards" }, h("thead", {}, h("tr", {}, COLS.map((key) => h("th", { scope: "col" }, t(key))))), tbody),
      ),
    ),
    h("section", { class: "card" }, h("h2", {}, t("panel.tokens.new")), form, formError),
  );
  load().catch(fail);
  return () => {
    stopped = true;
  };
}
