// Start the panel: theme, texts, session, the live channel and the router. Each page is a
// module under pages/ exporting mount(root, ctx) → unmount; ctx is all a page gets.
import { createApi } from "./api.js";
import { createFormat } from "./format.js";
import { createI18n } from "./i18n.js";
import { createLive } from "./live.js";
import { createRouter } from "./router.js";
import { renderShell } from "./shell.js";
import { createTheme } from "./theme.js";
import * as accountPage from "./pages/account.js";
import * as appInstancePage from "./pages/app-instance.js";
import * as appNamePage from "./pages/app-name.js";
import * as appsPage from "./pages/apps.js";
import * as dashboardPage from "./pages/dashboard.js";
import * as databasePage from "./pages/database.js";
import * as dbTablePage from "./pages/db-table.js";
import * as deployPage from "./pages/deploy.js";
import * as filesPage from "./pages/files.js";
import * as loginPage from "./pages/login.js";
import * as driversPage from "./pages/drivers.js";
import * as messagePage from "./pages/message.js";
import * as messagesPage from "./pages/messages.js";
import * as simulatePage from "./pages/simulate.js";
import * as whyPage from "./pages/why.js";
import * as logsPage from "./pages/logs.js";
import * as settingsPage from "./pages/settings.js";
import * as textsPage from "./pages/texts.js";

const ROUTES = [
  { path: "/login", page: loginPage, public: true },
  { path: "/", page: dashboardPage, nav: "dashboard" },
  { path: "/apps", page: appsPage, nav: "apps" },
  { path: "/apps/instance/:id", page: appInstancePage, nav: "apps" },
  { path: "/apps/name/:name", page: appNamePage, nav: "apps" },
  { path: "/logs", page: logsPage, nav: "logs" },
  { path: "/texts", page: textsPage, nav: "texts" },
  { path: "/settings", page: settingsPage, nav: "settings" },
  { path: "/settings/:tab", page: settingsPage, nav: "settings" },
  { path: "/files", page: filesPage, nav: "files" },
  { path: "/database", page: databasePage, nav: "database" },
  { path: "/database/tables/:name", page: dbTablePage, nav: "database" },
  { path: "/account", page: accountPage, nav: "account" },
  { path: "/drivers", page: driversPage, nav: "drivers" },
  { path: "/drivers/:id", page: driversPage, nav: "drivers" }, // a log line names one: the list shows it
  { path: "/messages", page: messagesPage, nav: "messages" },
  { path: "/messages/:id", page: messagePage, nav: "messages" },
  { path: "/messages/:id/why", page: whyPage, nav: "why" },
  { path: "/why", page: whyPage, nav: "why" },
  { path: "/simulate", page: simulatePage, nav: "simulate" },
  { path: "/deploy", page: deployPage, nav: "deploy" },
];

const root = document.getElementById("app");
const theme = createTheme();
let loaded = false;
const i18n = createI18n(async (scope, chosen) => {
  const path = scope === "all" ? "/api/v1/i18n/panel" : "/api/v1/i18n/panel/login";
  return api.get(path, chosen ? { locale: chosen } : undefined);
});
const api = createApi({
  onUnauthorized: () => signedOut(),
  language: () => (loaded ? i18n.tag : null),
});
const live = createLive({
  onSessionEnded: () => signedOut(),
  checkSession: async () => (await whoAmI()) !== null,
});
const format = createFormat(i18n);
let session = null;
let shell = null;
let unmount = null;
let shown = null;

// Whether this browser signed in here last (the cookie itself is HttpOnly): without it the
// panel goes straight to the sign-in page instead of asking and being refused.
const HINT = "kenkogo.signed-in";
function hint(on) {
  try {
    if (on === undefined) return localStorage.getItem(HINT) === "1";
    if (on) localStorage.setItem(HINT, "1");
    else localStorage.removeItem(HINT);
  } catch {
    return true; // no storage: ask the Master every time
  }
  return on;
}

async function whoAmI() {
  try {
    const me = await api.get("/api/v1/auth/me");
    return me.kind === "account" ? me : null;
  } catch {
    return null;
  }
}

function signedIn(me) {
  session = me;
  hint(true);
  api.setCsrf(me.csrf_token);
}

function signedOut() {
  if (!loaded || (!session && shown?.route?.public)) return; // (start() routes by itself)
  session = null;
  hint(false);
  api.setCsrf(null);
  live.stop();
  const next = shown && !shown.route?.public ? shown.path : "";
  router.go(next && next !== "/" ? `/login?next=${encodeURIComponent(next)}` : "/login", { replace: true });
}

const ctx = {
  api,
  live,
  format,
  theme,
  i18n,
  t: (key, params) => i18n.t(key, params),
  get session() {
    return session;
  },
  get router() {
    return router;
  },
  /** After a sign-in or a password change: keep the session, load every text, go on. */
  async signedIn(me, next = "/") {
    signedIn(me);
    await i18n.load("all");
    router.go(next, { replace: true });
  },
  async onLanguage(locale) {
    i18n.choose(locale);
    await i18n.load(session ? "all" : "login");
    show(router.current(), { rebuild: true });
  },
  async onSignOut() {
    try {
      await api.post("/api/v1/auth/logout");
    } finally {
      signedOut();
    }
  },
};

function show(match, { rebuild = false } = {}) {
  const { route } = match;
  if (!route) return router.go("/", { replace: true });
  if (!route.public && !session) return signedOut();
  if (route.path === "/login" && session) return router.go("/", { replace: true });
  unmount?.();
  unmount = null;
  const bare = !!route.public;
  if (rebuild || !shell || shell.bare !== bare || shell.active !== route.nav) {
    shell?.dispose();
    shell = { ...renderShell(root, ctx, { bare, active: route.nav }), bare, active: route.nav };
  } else {
    shell.main.replaceChildren();
  }
  const moved = shown !== null && shown.path !== match.path;
  shown = match;
  unmount = route.page.mount(shell.main, { ...ctx, params: match.params, query: match.query });
  document.title = `${ctx.t(route.page.title)} · ${ctx.t("panel.shell.brand")}`;
  if (moved) shell.main.focus({ preventScroll: true }); // keyboard users land on the new page
  window.scrollTo(0, 0);
}

const router = createRouter(ROUTES, (match) => show(match));

async function start() {
  const me = hint() ? await whoAmI() : null;
  if (me) signedIn(me);
  else hint(false);
  try {
    await i18n.load(me ? "all" : "login");
  } catch (error) {
    console.error("the panel's texts could not be loaded", error);
  }
  loaded = true;
  router.start();
}

start();
