// What the apps pages share: state badges, a subscription in a few words, and the operator's
// actions on an instance or a name (pause, resume, kick with a reason, hold, release).
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";

export const STATES = {
  connected: N_("panel.state.connected"),
  paused: N_("panel.state.paused"),
  scheduling: N_("panel.state.scheduling"),
  disconnected: N_("panel.state.disconnected"),
};

export function stateBadge(t, state) {
  return h("span", { class: `badge badge-${state}` }, t(STATES[state] || state));
}

/** A subscription as "commands /w, /weather · chats group" (every filter the app gave). */
export function subscriptionText(subscribe) {
  if (!subscribe) return "";
  return Object.entries(subscribe)
    .filter(([, values]) => Array.isArray(values) && values.length)
    .map(([filter, values]) => `${filter} ${values.join(", ")}`)
    .join(" · ");
}

const enc = encodeURIComponent;

export const actions = {
  pause: (api, id) => api.post(`/api/v1/apps/${enc(id)}/pause`),
  resume: (api, id) => api.post(`/api/v1/apps/${enc(id)}/resume`),
  kick: (api, id, reason) => api.post(`/api/v1/apps/${enc(id)}/kick`, reason ? { reason } : {}),
  hold: (api, name) => api.post(`/api/v1/app-names/${enc(name)}/hold`),
  release: (api, name) => api.post(`/api/v1/app-names/${enc(name)}/release`),
};

/**
 * Ask for a reason and kick: resolves true when kicked, false when cancelled.
 * A <dialog> keeps the focus inside until it closes, and Escape cancels it.
 */
export function kickWithReason(ctx, app) {
  const { t, api } = ctx;
  return new Promise((resolve) => {
    const id = uid("reason");
    const heading = uid("kick");
    const input = h("input", { id, class: "input", maxlength: "200", autocomplete: "off" });
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const confirm = h("button", { type: "submit", class: "button button-danger" }, t("panel.apps.kick"));
    const cancel = h("button", { type: "button", class: "button", value: "cancel" }, t("panel.common.cancel"));
    const form = h(
      "form",
      { method: "dialog", class: "stack" },
      h("h2", { id: heading }, t("panel.apps.kick_title", { name: app.name || app.id })),
      h("p", { class: "muted" }, t("panel.apps.kick_explain")),
      h("div", { class: "field" }, h("label", { for: id }, t("panel.apps.kick_reason")), input),
      error,
      h("div", { class: "button-row" }, cancel, confirm),
    );
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": heading }, form);
    let kicked = false;
    cancel.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      confirm.disabled = true;
      try {
        await actions.kick(api, app.id, input.value.trim());
        kicked = true;
        dialog.close();
      } catch (failure) {
        confirm.disabled = false;
        error.textContent = failure.message;
        error.hidden = false;
      }
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(kicked);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}
