// A modal <dialog> that asks one thing: a confirmation, or a value. The focus stays inside
// until it closes, Escape cancels, and an error from `submit` is shown in it (it stays open).
import { h, uid } from "../dom.js";

/**
 * ask(ctx, {title, text, label, value, confirm, danger, submit}) → Promise<result | null>
 * With `label` the dialog has a text field and `submit(value)` gets it; without, it confirms.
 * Resolves with what `submit` returned, or null when cancelled.
 */
export function ask(ctx, { title, text = "", label = "", value = "", confirm, danger = false, submit }) {
  const { t } = ctx;
  return new Promise((resolve) => {
    const heading = uid("ask");
    const inputId = uid("ask-input");
    const input = label ? h("input", { id: inputId, class: "input", autocomplete: "off", spellcheck: "false" }) : null;
    if (input) input.value = value;
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const ok = h("button", { type: "submit", class: ["button", danger ? "button-danger" : "button-primary"] }, confirm);
    const cancel = h("button", { type: "button", class: "button" }, t("panel.common.cancel"));
    const form = h(
      "form",
      { method: "dialog", class: "stack" },
      h("h2", { id: heading }, title),
      text ? h("p", { class: "muted ask-text" }, text) : null,
      input ? h("div", { class: "field" }, h("label", { for: inputId }, label), input) : null,
      error,
      h("div", { class: "button-row" }, cancel, ok),
    );
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": heading }, form);
    let result = null;
    cancel.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      ok.disabled = true;
      error.hidden = true;
      try {
        result = (await submit(input ? input.value.trim() : undefined)) ?? true;
        dialog.close();
      } catch (failure) {
        ok.disabled = false;
        error.textContent = failure.message || t("panel.shell.network_error");
        error.hidden = false;
      }
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    if (input) {
      input.focus();
      // Select the name without its extension, as file managers do on rename.
      const dot = value.lastIndexOf(".");
      input.setSelectionRange(0, dot > 0 ? dot : value.length);
    } else {
      ok.focus();
    }
  });
}
