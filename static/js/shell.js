// The frame around every page: skip link, brand, navigation, live status, language, theme
// and the signed-in account. The sign-in page gets the same frame without navigation.
import { h, uid } from "./dom.js";
import { N_ } from "./i18n.js";
import { THEMES } from "./theme.js";

export const NAV = [
  { id: "dashboard", path: "/", label: N_("panel.nav.dashboard") },
  { id: "apps", path: "/apps", label: N_("panel.nav.apps") },
  { id: "drivers", path: "/drivers", label: N_("panel.nav.drivers") },
  { id: "messages", path: "/messages", label: N_("panel.nav.messages") },
  { id: "why", path: "/why", label: N_("panel.nav.why") },
  { id: "simulate", path: "/simulate", label: N_("panel.nav.simulate") },
  { id: "deploy", path: "/deploy", label: N_("panel.nav.deploy") },
  { id: "files", path: "/files", label: N_("panel.nav.files") },
  { id: "database", path: "/database", label: N_("panel.nav.database") },
  { id: "logs", path: "/logs", label: N_("panel.nav.logs") },
  { id: "texts", path: "/texts", label: N_("panel.nav.texts") },
  { id: "settings", path: "/settings", label: N_("panel.nav.settings") },
];
const THEME_LABELS = {
  system: N_("panel.shell.theme_system"),
  light: N_("panel.shell.theme_light"),
  dark: N_("panel.shell.theme_dark"),
};
const LIVE_LABELS = {
  idle: N_("panel.shell.live_idle"),
  connecting: N_("panel.shell.live_connecting"),
  live: N_("panel.shell.live_live"),
  paused: N_("panel.shell.live_paused"),
};

function select(label, options, value, onChange, className) {
  const id = uid("select");
  const control = h(
    "select",
    { id, class: "select", onchange: (event) => onChange(event.target.value) },
    options.map(([optionValue, text]) =>
      h("option", { value: optionValue, selected: optionValue === value }, text),
    ),
  );
  return h("span", { class: ["field-inline", className] }, h("label", { for: id, class: "visually-hidden" }, label), control);
}

/**
 * renderShell(root, ctx, {bare, active}) → {main, dispose}
 * ctx: {t, i18n, theme, live, session, router, onLanguage, onSignOut}
 */
export function renderShell(root, ctx, { bare = false, active = "" } = {}) {
  const { t } = ctx;
  const main = h("main", { id: "main", class: "main", tabindex: "-1" });
  const skip = h(
    "a",
    {
      class: "skip-link",
      href: "#main",
      onclick: (event) => {
        event.preventDefault(); // the hash is the router's
        main.focus();
      },
    },
    t("panel.shell.skip"),
  );
  const brand = h(
    "a",
    { class: "brand", href: ctx.router.href("/") },
    h("img", { src: "/static/favicon.svg", alt: "", width: "24", height: "24" }),
    h("span", {}, t("panel.shell.brand")),
  );
  const language = select(
    t("panel.shell.language"),
    ctx.i18n.locales.map((item) => [item.locale, item.name]),
    ctx.i18n.locale,
    (value) => ctx.onLanguage(value),
    "shell-language",
  );
  const theme = select(
    t("panel.shell.theme"),
    THEMES.map((value) => [value, t(THEME_LABELS[value])]),
    ctx.theme.choice,
    (value) => ctx.theme.choose(value),
    "shell-theme",
  );
  const controls = h("div", { class: "shell-controls" }, language, theme);
  const disposers = [];
  let nav = null;
  if (!bare) {
    const dot = h("span", { class: "live-dot" });
    const liveText = h("span", { class: "live-text" });
    const status = h("span", { class: "live-status", role: "status" }, dot, liveText);
    disposers.push(
      ctx.live.onStatus((value) => {
        status.dataset.status = value;
        liveText.textContent = t(LIVE_LABELS[value]);
      }),
    );
    controls.prepend(status);
    controls.append(
      h("a", { class: "account-link", href: ctx.router.href("/account"), "aria-current": active === "account" ? "page" : null }, ctx.session.name),
      h("button", { type: "button", class: "button button-quiet", onclick: ctx.onSignOut }, t("panel.shell.sign_out")),
    );
    nav = h(
      "nav",
      { class: "shell-nav", "aria-label": t("panel.shell.navigation") },
      h(
        "ul",
        {},
        NAV.map((item) =>
          h(
            "li",
            {},
            h("a", { href: ctx.router.href(item.path), "aria-current": item.id === active ? "page" : null }, t(item.label)),
          ),
        ),
        h("li", {}, h("a", { href: "/api/v1/docs" }, t("panel.nav.api_docs"))),
      ),
    );
  }
  const header = h("header", { class: "shell-header" }, h("div", { class: "shell-bar" }, brand, controls), nav);
  root.replaceChildren(skip, header, main);
  root.classList.toggle("app-bare", bare);
  root.removeAttribute("aria-busy");
  return { main, dispose: () => disposers.forEach((dispose) => dispose()) };
}
