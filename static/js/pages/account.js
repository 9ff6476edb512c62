// The signed-in account: change its password. On first start the account still has the
// password the Master generated (also kept in data/admin-password): the page says so first.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";

export const title = N_("panel.account.title");

function field(label, attrs) {
  const id = uid("pw");
  return h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, class: "input", type: "password", required: true, ...attrs }));
}

export function mount(root, ctx) {
  const { t, api, session, format } = ctx;
  const old = field(t("panel.account.old_password"), { autocomplete: "current-password" });
  const fresh = field(t("panel.account.new_password"), { autocomplete: "new-password" });
  const again = field(t("panel.account.repeat_password"), { autocomplete: "new-password" });
  const message = h("p", { class: "form-error", role: "alert", hidden: true });
  const done = h("p", { class: "form-ok", role: "status", hidden: true });
  const submit = h("button", { type: "submit", class: "button button-primary" }, t("panel.account.change"));
  const form = h("form", { class: "stack", novalidate: true }, old, fresh, again, message, done, submit);
  const [oldInput, freshInput, againInput] = [old, fresh, again].map((node) => node.querySelector("input"));

  function say(node, text) {
    node.textContent = text;
    node.hidden = !text;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say(message, "");
    say(done, "");
    if (!oldInput.value || !freshInput.value) return say(message, t("panel.account.missing"));
    if (freshInput.value !== againInput.value) {
      againInput.focus();
      return say(message, t("panel.account.mismatch"));
    }
    submit.disabled = true;
    try {
      const me = await api.post("/api/v1/auth/password", { old_password: oldInput.value, new_password: freshInput.value });
      form.reset();
      await ctx.signedIn(me, "/account?changed=1");
    } catch (error) {
      submit.disabled = false;
      if (error.code === "wrong_password") say(message, t("panel.account.wrong_password"));
      else say(message, error.message || t("panel.shell.network_error"));
    }
  });

  const notice = session.password_generated
    ? h("div", { class: "notice notice-warn", role: "note" }, h("strong", {}, t("panel.account.first_start_title")), h("p", {}, t("panel.account.first_start")))
    : null;
  root.append(
    h("h1", {}, t("panel.account.title")),
    notice,
    h(
      "div",
      { class: "grid grid-2" },
      h(
        "section",
        { class: "card" },
        h("h2", {}, t("panel.account.session")),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, t("panel.account.name")),
          h("dd", {}, session.name),
          h("dt", {}, t("panel.account.signed_in")),
          h("dd", {}, format.dateTime(session.created_ms)),
          h("dt", {}, t("panel.account.expires")),
          h("dd", {}, format.dateTime(Math.min(session.expires_ms, session.idle_expires_ms))),
        ),
      ),
      h("section", { class: "card" }, h("h2", {}, t("panel.account.password")), form),
    ),
  );
  if (ctx.query.get("changed")) say(done, t("panel.account.changed"));
  if (notice) oldInput.focus();
  return () => {};
}
