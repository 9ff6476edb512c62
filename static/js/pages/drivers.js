// Drivers: every driver ever attached (Socket.IO, OneBot v11, the simulator) with its liveness
// and what went through it, updated from the event stream; and the tokens drivers attach with.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { confirmDialog, copyText, transportName } from "../parts/message-bits.js";
import { cardTable } from "../parts/card-table.js";

export const title = N_("panel.drivers.title");

const REFETCH_MS = 1000;

export function mount(root, ctx) {
  const { t, api, live, format, query } = ctx;
  const wanted = query.get("id"); // a driver to point at (from a message's page)
  const drivers = new Map();
  let stopped = false;
  let refetchTimer = 0;
  let lastFetch = 0;
  let pointed = false;

  const summary = h("p", { class: "muted", role: "status" });
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const heads = [
    N_("panel.drivers.col_driver"),
    N_("panel.drivers.col_platform"),
    N_("panel.drivers.col_transport"),
    N_("panel.drivers.col_status"),
    N_("panel.drivers.col_alive"),
    N_("panel.drivers.col_received"),
    N_("panel.drivers.col_sent"),
    N_("panel.drivers.col_failed"),
  ];
  const tbody = h("tbody");
  const tokenHeads = [N_("panel.drivers.col_token_name"), N_("panel.drivers.col_created"), N_("panel.drivers.col_last_used"), N_("panel.apps.col_actions")];
  const tokensBody = h("tbody");
  const nameId = uid("token-name");
  const tokenName = h("input", { id: nameId, class: "input", maxlength: "100", autocomplete: "off", required: true });
  const tokenProblem = h("p", { class: "form-error", role: "alert", hidden: true });
  const createForm = h(
    "form",
    { class: "toolbar token-form" },
    h("div", { class: "field" }, h("label", { for: nameId }, t("panel.drivers.token_name")), tokenName),
    h("div", { class: "field field-end" }, h("button", { type: "submit", class: "button button-primary" }, t("panel.drivers.create_token"))),
  );
  const table = (heads, body, caption) => cardTable(t, heads, body, caption);

  root.append(
    h("div", { class: "page-head" }, h("h1", {}, t("panel.drivers.title")), summary),
    problem,
    h("section", { class: "card" }, h("h2", {}, t("panel.drivers.known")), h("p", { class: "muted small" }, t("panel.drivers.counts_note")), table(heads, tbody, t("panel.drivers.known"))),
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("panel.drivers.tokens")),
      h("p", { class: "muted small" }, t("panel.drivers.tokens_note")),
      createForm,
      tokenProblem,
      table(tokenHeads, tokensBody, t("panel.drivers.tokens")),
    ),
  );

  function fail(error, where = problem) {
    if (stopped || error.name === "AbortError") return;
    where.textContent = error.message || t("panel.shell.network_error");
    where.hidden = false;
  }

  function cell(key, ...content) {
    return h("td", { "data-label": t(key) }, ...content);
  }

  function render() {
    const list = [...drivers.values()].sort((a, b) => b.live - a.live || b.last_seen_ms - a.last_seen_ms);
    if (!list.length) {
      tbody.replaceChildren(h("tr", {}, h("td", { colspan: heads.length, class: "empty" }, t("panel.drivers.none"))));
    } else {
      tbody.replaceChildren(
        ...list.map((driver) =>
          h(
            "tr",
            { dataset: { id: driver.id }, class: driver.id === wanted ? "row-pointed" : null },
            cell(heads[0], h("span", { class: "strong" }, driver.name || driver.self_id), h("br"), h("span", { class: "mono small" }, `${driver.self_id} · ${driver.id}`)),
            cell(heads[1], driver.platform),
            cell(heads[2], transportName(t, driver.transport)),
            cell(
              heads[3],
              driver.live
                ? h("span", { class: "badge tone-ok", title: format.dateTime(driver.connected_ms) }, t("panel.drivers.live"))
                : h("span", { class: "badge" }, t("panel.drivers.offline")),
              driver.live ? h("div", { class: "muted small" }, t("panel.drivers.since", { time: format.dateTime(driver.connected_ms) })) : "",
            ),
            cell(heads[4], driver.live ? format.time(driver.alive_ms ?? driver.connected_ms) : format.dateTime(driver.last_seen_ms)),
            cell(heads[5], h("span", { class: "num" }, format.number(driver.received))),
            cell(heads[6], h("span", { class: "num" }, format.number(driver.sent))),
            cell(heads[7], h("span", { class: ["num", driver.failed ? "text-bad" : ""] }, format.number(driver.failed))),
          ),
        ),
      );
    }
    const liveCount = list.filter((driver) => driver.live).length;
    summary.textContent = t("panel.drivers.summary", { live: liveCount, known: list.length });
    if (wanted && !pointed && drivers.has(wanted)) {
      pointed = true;
      tbody.querySelector(".row-pointed")?.scrollIntoView({ block: "center" });
    }
  }

  async function refetch() {
    lastFetch = Date.now();
    const answer = await api.get("/api/v1/drivers");
    if (stopped) return;
    drivers.clear();
    for (const driver of answer.items) drivers.set(driver.id, driver);
    problem.hidden = true;
    render();
  }

  function refetchSoon() {
    if (refetchTimer) return;
    refetchTimer = setTimeout(() => {
      refetchTimer = 0;
      refetch().catch(fail);
    }, Math.max(0, lastFetch + REFETCH_MS - Date.now()));
  }

  function onEvents(events) {
    let changed = false;
    for (const { topic, data } of events) {
      if (topic === "driver.load") {
        for (const [id, counts] of Object.entries(data.drivers)) {
          const driver = drivers.get(id);
          if (driver) Object.assign(driver, counts);
          else refetchSoon();
        }
        changed = true;
      } else {
        refetchSoon(); // attached or detached: new details
      }
    }
    if (changed) render();
  }

  async function loadTokens() {
    const answer = await api.get("/api/v1/driver-tokens");
    if (stopped) return;
    if (!answer.items.length) {
      tokensBody.replaceChildren(h("tr", {}, h("td", { colspan: tokenHeads.length, class: "empty" }, t("panel.drivers.no_tokens"))));
      return;
    }
    tokensBody.replaceChildren(
      ...answer.items.map((token) => {
        const remove = h("button", { type: "button", class: "button button-small button-danger" }, t("panel.drivers.delete_token"));
        remove.addEventListener("click", async () => {
          const sure = await confirmDialog({ t, title: t("panel.drivers.delete_title", { name: token.name }), text: t("panel.drivers.delete_explain"), confirm: t("panel.drivers.delete_token"), danger: true });
          if (!sure) return;
          tokenProblem.hidden = true;
          try {
            await api.del(`/api/v1/driver-tokens/${encodeURIComponent(token.id)}`);
            await loadTokens();
          } catch (error) {
            fail(error, tokenProblem);
          }
        });
        return h(
          "tr",
          { dataset: { token: token.id } },
          cell(tokenHeads[0], h("span", { class: "strong" }, token.name)),
          cell(tokenHeads[1], format.dateTime(token.created_ms)),
          cell(tokenHeads[2], token.last_used_ms ? format.dateTime(token.last_used_ms) : t("panel.drivers.never")),
          cell(tokenHeads[3], remove),
        );
      }),
    );
  }

  function showSecret(created) {
    const heading = uid("secret");
    const fieldId = uid("secret-value");
    const value = h("input", { id: fieldId, class: "input mono secret-value", readonly: true, value: created.token });
    const copied = h("span", { class: "muted small", role: "status" });
    const copy = h("button", { type: "button", class: "button" }, t("panel.drivers.copy"));
    const done = h("button", { type: "submit", class: "button button-primary" }, t("panel.drivers.done"));
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": heading },
      h(
        "form",
        { method: "dialog", class: "stack" },
        h("h2", { id: heading }, t("panel.drivers.secret_title", { name: created.name })),
        h("p", { class: "notice notice-warn" }, t("panel.drivers.secret_once")),
        h("div", { class: "field" }, h("label", { for: fieldId }, t("panel.drivers.secret")), h("div", { class: "copy-row" }, value, copy)),
        copied,
        h("div", { class: "button-row" }, done),
      ),
    );
    copy.addEventListener("click", async () => {
      copied.textContent = (await copyText(created.token, value)) ? t("panel.drivers.copied") : t("panel.drivers.copy_failed");
    });
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    value.select();
  }

  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    tokenProblem.hidden = true;
    try {
      const created = await api.post("/api/v1/driver-tokens", { name: tokenName.value.trim() });
      tokenName.value = "";
      showSecret(created);
      await loadTokens();
    } catch (error) {
      fail(error, tokenProblem);
    }
  });

  const unsubscribe = live.subscribe("driver", onEvents, { onReset: () => refetch().catch(fail) });
  refetch().catch(fail);
  loadTokens().catch((error) => fail(error, tokenProblem));
  return () => {
    stopped = true;
    clearTimeout(refetchTimer);
    unsubscribe();
  };
}
