// Admin accounts: who may sign in to the panel. Create one, disable it (its sessions end at
// once) or enable it again. The Master keeps the last enabled account, and the one signed in
// here, from being disabled; the signed-in account changes its own password on its page.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { confirmAction } from "./confirm.js";

const COLS = [
  N_("panel.accounts.col_name"),
  N_("panel.accounts.col_state"),
  N_("panel.accounts.col_created"),
  N_("panel.accounts.col_password"),
  N_("panel.accounts.col_login"),
  N_("panel.accounts.col_actions"),
];

function field(label, control) {
  const id = uid("acct");
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

export function mount(root, ctx) {
  const { t, api, format, router, session } = ctx;
  let stopped = false;
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const done = h("p", { class: "form-ok", role: "status", hidden: true });
  const tbody = h("tbody");
  const name = h("input", { class: "input", autocomplete: "off", maxlength: "64", required: true });
  const password = h("input", { class: "input", type: "password", autocomplete: "new-password", required: true });
  const again = h("input", { class: "input", type: "password", autocomplete: "new-password", required: true });
  const formError = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "toolbar", novalidate: true },
    field(t("panel.accounts.name"), name),
    field(t("panel.accounts.password"), password),
    field(t("panel.accounts.password_again"), again),
    h("div", { class: "toolbar-buttons" }, h("button", { type: "submit", class: "button button-primary" }, t("panel.accounts.create"))),
  );

  function fail(error) {
    if (stopped) return;
    problem.textContent = error.message || t("panel.shell.network_error");
    problem.hidden = false;
  }

  function say(text) {
    done.textContent = text;
    done.hidden = !text;
  }

  async function toggle(item) {
    problem.hidden = true;
    say("");
    if (!item.disabled) {
      let answer = null;
      const disabled = await confirmAction(ctx, {
        title: t("panel.accounts.disable_title", { name: item.name }),
        text: t("panel.accounts.disable_text"),
        confirm: t("panel.accounts.disable"),
        action: async () => {
          answer = await api.post(`/api/v1/accounts/${encodeURIComponent(item.name)}/disable`);
        },
      });
      if (!disabled) return;
      say(t("panel.accounts.disabled_done", { name: item.name, count: answer.sessions_ended }));
    } else {
      try {
        await api.post(`/api/v1/accounts/${encodeURIComponent(item.name)}/enable`);
        say(t("panel.accounts.enabled_done", { name: item.name }));
      } catch (error) {
        return fail(error);
      }
    }
    load().catch(fail);
  }

  async function load() {
    const list = await api.get("/api/v1/accounts");
    if (stopped) return;
    tbody.replaceChildren(
      ...list.items.map((item) => {
        const self = item.name === session.name;
        const state = [h("span", { class: ["badge", item.disabled ? "badge-disconnected" : "badge-scheduling"] }, item.disabled ? t("panel.accounts.disabled") : t("panel.accounts.enabled"))];
        if (self) state.push(h("span", { class: "badge" }, t("panel.accounts.you")));
        const action = self
          ? h("a", { class: "button button-small", href: router.href("/account") }, t("panel.accounts.change_password"))
          : h("button", { type: "button", class: ["button", "button-small", item.disabled ? null : "button-danger"] }, item.disabled ? t("panel.accounts.enable") : t("panel.accounts.disable"));
        if (!self) action.addEventListener("click", () => toggle(item));
        const cells = [
          h("span", { class: "strong" }, item.name),
          h("span", { class: "badge-row" }, state),
          format.dateTime(item.created_ms),
          [format.dateTime(item.password_changed_ms), item.password_generated ? h("div", { class: "muted small" }, t("panel.accounts.generated")) : null],
          item.last_login_ms ? format.dateTime(item.last_login_ms) : h("span", { class: "muted" }, t("panel.accounts.never")),
          action,
        ];
        return h("tr", { dataset: { account: item.name } }, cells.map((cell, i) => h("td", { "data-label": t(COLS[i]) }, h("div", { class: "cell" }, cell))));
      }),
    );
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.hidden = true;
    say("");
    if (!name.value.trim() || !password.value) {
      formError.textContent = t("panel.accounts.missing");
      formError.hidden = false;
      return;
    }
    if (password.value !== again.value) {
      formError.textContent = t("panel.accounts.mismatch");
      formError.hidden = false;
      again.focus();
      return;
    }
    try {
      const created = await api.post("/api/v1/accounts", { name: name.value.trim(), password: password.value });
      form.reset();
      say(t("panel.accounts.created", { name: created.name }));
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
      h("h2", {}, t("panel.accounts.title")),
      h("p", { class: "muted small" }, t("panel.accounts.intro")),
      problem,
      done,
      h(
        "div",
        { class: "table-wrap" },
        h("table", { class: "table table-cards" }, h("thead", {}, h("tr", {}, COLS.map((key) => h("th", { scope: "col" }, t(key))))), tbody),
      ),
    ),
    h("section", { class: "card" }, h("h2", {}, t("panel.accounts.new")), form, formError),
  );
  load().catch(fail);
  return () => {
    stopped = true;
  };
}
