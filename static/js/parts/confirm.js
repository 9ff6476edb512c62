// Ask before an action that cannot be undone: a modal <dialog> that keeps the focus inside,
// closes on Escape, and runs the action itself so that a refusal is shown where it was asked.
import { h, uid } from "../dom.js";

/**
 * confirmAction(ctx, {title, text, confirm, danger, action}) → Promise<boolean>
 * Resolves true once `action()` succeeded, false when cancelled.
 */
export function confirmAction(ctx, { title, text, confirm, danger = true, action }) {
  const { t } = ctx;
  return new Promise((resolve) => {
    const heading = uid("confirm");
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const yes = h("button", { type: "submit", class: ["button", danger ? "button-danger" : "button-primary"] }, confirm);
    const cancel = h("button", { type: "button", class: "button" }, t("panel.common.cancel"));
    const form = h(
      "form",
      { method: "dialog", class: "stack" },
      h("h2", { id: heading }, title),
      text ? h("p", { class: "muted" }, text) : null,
      error,
      h("div", { class: "button-row" }, cancel, yes),
    );
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": heading }, form);
    let done = false;
    cancel.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      yes.disabled = true;
      try {
        await action();
        done = true;
        dialog.close();
      } catch (failure) {
        yes.disabled = false;
        error.textContent = failure.message || t("panel.shell.network_error");
        error.hidden = false;
      }
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(done);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
