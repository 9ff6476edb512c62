// Settings: the configuration in effect, API tokens, admin accounts and the audit log — one page
// with a tab each (#/settings/tokens …), every tab a part of its own under parts/.
import { h } from "../dom.js";
import { N_ } from "../i18n.js";
import * as accounts from "../parts/admin-accounts.js";
import * as audit from "../parts/admin-audit.js";
import * as config from "../parts/admin-config.js";
import * as tokens from "../parts/admin-tokens.js";

export const title = N_("panel.settings.title");

const TABS = [
  { id: "config", label: N_("panel.settings.tab_config"), part: config },
  { id: "tokens", label: N_("panel.settings.tab_tokens"), part: tokens },
  { id: "accounts", label: N_("panel.settings.tab_accounts"), part: accounts },
  { id: "audit", label: N_("panel.settings.tab_audit"), part: audit },
];

export function mount(root, ctx) {
  const { t, router } = ctx;
  const tab = TABS.find((item) => item.id === ctx.params.tab) || TABS[0];
  const nav = h(
    "nav",
    { class: "tabs", "aria-label": t("panel.settings.title") },
    TABS.map((item) =>
      h(
        "a",
        { class: "tab", href: router.href(item.id === "config" ? "/settings" : `/settings/${item.id}`), "aria-current": item === tab ? "page" : null },
        t(item.label),
      ),
    ),
  );
  const body = h("div", { class: "settings-body" });
  root.append(h("div", { class: "page-head" }, h("h1", {}, t("panel.settings.title"))), nav, body);
  return tab.part.mount(body, ctx);
}
