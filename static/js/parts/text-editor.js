// Edit a small text file of the file area in a dialog. The text is saved with the version it
// was read at (If-Match): when someone saved in between, the Master answers 412 and the
// dialog says so plainly, keeps the operator's text, and offers their version or an overwrite.
import { h, uid } from "../dom.js";

/** editText(ctx, path) → Promise<boolean>: whether it was saved. Throws if it cannot open. */
export async function editText(ctx, path) {
  const { t, api } = ctx;
  let loaded = await api.get("/api/v1/files/text", { path });
  return new Promise((resolve) => {
    const heading = uid("edit");
    const areaId = uid("text");
    const area = h("textarea", { id: areaId, class: "input editor-text", spellcheck: "false", rows: "18" });
    area.value = loaded.text;
    const meta = h("p", { class: "muted small" });
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const conflict = h("div", { class: "notice notice-warn", role: "alert", hidden: true });
    const save = h("button", { type: "submit", class: "button button-primary" }, t("panel.files.save"));
    const close = h("button", { type: "button", class: "button" }, t("panel.files.close"));
    const form = h(
      "form",
      { method: "dialog", class: "stack" },
      h("h2", { id: heading, class: "mono-title" }, path),
      h("div", { class: "field" }, h("label", { for: areaId }, t("panel.files.text")), area),
      meta,
      conflict,
      error,
      h("div", { class: "button-row" }, close, save),
    );
    const dialog = h("dialog", { class: "dialog dialog-wide", "aria-labelledby": heading }, form);
    let saved = false;

    function describe() {
      meta.textContent = t("panel.files.text_meta", { size: ctx.format.bytes(loaded.size), modified: ctx.format.dateTime(loaded.modified_ms) });
    }

    async function write(version) {
      save.disabled = true;
      error.hidden = true;
      try {
        const answer = await api.putText(`/api/v1/files/text`, { path }, area.value, { headers: { "If-Match": version === "*" ? "*" : `"${version}"` } });
        loaded = { ...loaded, text: area.value, version: answer.version, size: answer.size, modified_ms: answer.modified_ms };
        saved = true;
        conflict.hidden = true;
        dialog.close();
      } catch (failure) {
        if (failure.status === 412) showConflict();
        else {
          error.textContent = failure.message || t("panel.shell.network_error");
          error.hidden = false;
        }
      } finally {
        save.disabled = false;
      }
    }

    function showConflict() {
      const theirs = h("button", { type: "button", class: "button button-small" }, t("panel.files.conflict_load"));
      const mine = h("button", { type: "button", class: "button button-small button-danger" }, t("panel.files.conflict_overwrite"));
      theirs.addEventListener("click", async () => {
        try {
          loaded = await api.get("/api/v1/files/text", { path });
          area.value = loaded.text;
          describe();
          conflict.hidden = true;
        } catch (failure) {
          error.textContent = failure.message;
          error.hidden = false;
        }
      });
      mine.addEventListener("click", () => write("*"));
      conflict.replaceChildren(
        h("strong", {}, t("panel.files.conflict_title")),
        h("p", {}, t("panel.files.conflict_text")),
        h("div", { class: "button-row button-row-start" }, theirs, mine),
      );
      conflict.hidden = false;
      theirs.focus();
    }

    close.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      write(loaded.version);
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(saved);
    });
    describe();
    document.body.append(dialog);
    dialog.showModal();
    area.focus();
  });
}
