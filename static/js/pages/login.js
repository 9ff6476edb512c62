// Sign in with an account. Too many failures lock the name and the address out for a while:
// the page says so and counts down (Retry-After) instead of letting the operator hammer on.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";

export const title = N_("panel.login.title");

function field(label, attrs) {
  const id = uid("login");
  return h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, class: "input", ...attrs }));
}

export function mount(root, ctx) {
  const { t, api } = ctx;
  let timer = 0;
  const name = field(t("panel.login.name"), { name: "name", autocomplete: "username", required: true, value: "admin" });
  const password = field(t("panel.login.password"), { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "button button-primary" }, t("panel.login.submit"));
  const message = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h("form", { class: "login-form", novalidate: true }, name, password, message, submit);
  const nameInput = name.querySelector("input");
  const passwordInput = password.querySelector("input");

  function say(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  function lockedOut(seconds) {
    let left = Math.max(1, Math.ceil(seconds || 1));
    submit.disabled = true;
    const tick = () => {
      if (left <= 0) {
        clearInterval(timer);
        submit.disabled = false;
        say("");
        return;
      }
      say(t("panel.login.locked_out", { seconds: left }));
      left -= 1;
    };
    clearInterval(timer);
    tick();
    timer = setInterval(tick, 1000);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!nameInput.value || !passwordInput.value) {
      say(t("panel.login.missing"));
      (nameInput.value ? passwordInput : nameInput).focus();
      return;
    }
    submit.disabled = true;
    say("");
    try {
      const me = await api.post("/api/v1/auth/login", { name: nameInput.value, password: passwordInput.value });
      const next = ctx.query.get("next");
      await ctx.signedIn(me, me.password_generated ? "/account" : next || "/");
    } catch (error) {
      submit.disabled = false;
      passwordInput.value = "";
      if (error.code === "too_many_attempts") lockedOut(error.retryAfter);
      else if (error.code === "invalid_credentials") say(t("panel.login.invalid"));
      else if (error.code === "network_error") say(t("panel.shell.network_error"));
      else say(error.message);
      passwordInput.focus();
    }
  });

  root.append(
    h(
      "section",
      { class: "login card" },
      h("h1", {}, t("panel.login.title")),
      h("p", { class: "muted" }, t("panel.login.intro")),
      form,
      h("p", { class: "login-hint muted" }, t("panel.login.first_start_hint")),
    ),
  );
  (nameInput.value ? passwordInput : nameInput).focus();
  return () => clearInterval(timer);
}
