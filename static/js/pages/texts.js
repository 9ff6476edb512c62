// Texts: every text the Master speaks, per locale, with the catalog's text beside an operator's
// override; edit, reset, add a template text; the offered locales; the chats' own locales.
// Changes apply from the next message on: a templated reply speaks the new text at once.
import { h, replace, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { confirmAction } from "../parts/confirm.js";
import { cardTable } from "../parts/card-table.js";

export const title = N_("panel.texts.title");

const PAGE_SIZE = 50;
const TYPING_MS = 300;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const enc = encodeURIComponent;

function field(label, control, hint) {
  const id = uid("text");
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("span", { class: "muted small" }, hint) : null);
}

function placeholders(text) {
  return [...new Set([...(text || "").matchAll(PLACEHOLDER)].map((match) => `{${match[1]}}`))];
}

export function mount(root, ctx) {
  const { t, api, format } = ctx;
  let stopped = false;
  let offset = 0;
  let locales = [];
  let editing = null; // {key, locale, close}
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  function fail(error) {
    if (stopped || error.name === "AbortError") return;
    problem.textContent = error.message || t("panel.shell.network_error");
    problem.hidden = false;
  }

  // ---- texts
  const localeSelect = h("select", { class: "select" });
  const search = h("input", { class: "input", type: "search", autocomplete: "off", value: ctx.query.get("q") || "" });
  const summary = h("p", { class: "muted", role: "status" });
  const cols = [N_("panel.texts.col_key"), N_("panel.texts.col_text"), N_("panel.texts.col_catalog"), N_("panel.texts.col_state"), N_("panel.texts.col_actions")];
  const tbody = h("tbody");
  const pager = h("div", { class: "pager" });

  function stateBadges(item) {
    const badges = [];
    if (item.overridden) badges.push(h("span", { class: "badge badge-override" }, t("panel.texts.overridden")));
    else if (item.source && item.source !== item.locale) badges.push(h("span", { class: "badge badge-held" }, t("panel.texts.fallback", { locale: item.source })));
    else if (item.source === null) badges.push(h("span", { class: "badge badge-away" }, t("panel.texts.missing")));
    else badges.push(h("span", { class: "badge" }, t("panel.texts.catalog")));
    return h("span", { class: "badge-row" }, badges);
  }

  function textRow(item) {
    // One box per cell: at phone width a cell is a grid of its label and this box.
    const cells = cols.map(() => h("div", { class: "cell" }));
    const row = h("tr", { dataset: { key: item.key, locale: item.locale } }, cells.map((cell, i) => h("td", { "data-label": t(cols[i]) }, cell)));
    const edit = h("button", { type: "button", class: "button button-small" }, t("panel.texts.edit"));
    function update(next) {
      item = next;
      replace(cells[0], h("span", { class: "mono" }, item.key), localeSelect.value ? null : h("span", { class: "badge text-locale" }, item.locale));
      cells[1].replaceChildren(item.text === null ? h("span", { class: "muted" }, "–") : h("span", { class: "text-value" }, item.text));
      cells[2].replaceChildren(item.catalog_text === null ? h("span", { class: "muted" }, "–") : h("span", { class: "text-value muted" }, item.catalog_text));
      replace(cells[3], stateBadges(item), item.updated_ms && item.overridden ? h("div", { class: "muted small" }, format.dateTime(item.updated_ms)) : null);
    }
    edit.addEventListener("click", () => openEditor(row, item, update, edit));
    cells[4].append(edit);
    update(item);
    return row;
  }

  function openEditor(row, item, update, opener) {
    editing?.close();
    const area = h("textarea", { class: "input text-editor", rows: "3", maxlength: "4000" }, item.text ?? item.catalog_text ?? "");
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const save = h("button", { type: "submit", class: "button button-primary" }, t("panel.texts.save"));
    const reset = h("button", { type: "button", class: "button", hidden: !item.overridden }, t("panel.texts.reset"));
    const cancel = h("button", { type: "button", class: "button" }, t("panel.common.cancel"));
    const names = placeholders(item.catalog_text);
    const form = h(
      "form",
      { class: "stack text-edit-form" },
      field(t("panel.texts.text_in", { locale: item.locale }), area, names.length ? t("panel.texts.placeholders", { names: names.join(" ") }) : null),
      item.catalog_text !== null ? h("p", { class: "muted small" }, t("panel.texts.catalog_says"), " ", h("span", { class: "text-value" }, item.catalog_text)) : null,
      error,
      h("div", { class: "button-row" }, reset, cancel, save),
    );
    const editorRow = h("tr", { class: "text-edit-row" }, h("td", { colspan: cols.length }, form));
    row.after(editorRow);
    area.focus();
    const path = `/api/v1/i18n/texts/${enc(item.locale)}/${enc(item.key)}`;
    async function run(work) {
      error.hidden = true;
      save.disabled = reset.disabled = true;
      try {
        update(await work());
        close();
        opener.focus();
      } catch (failure) {
        error.textContent = failure.message || t("panel.shell.network_error");
        error.hidden = false;
        save.disabled = reset.disabled = false;
      }
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      run(() => api.put(path, { text: area.value }));
    });
    reset.addEventListener("click", () => run(() => api.del(path)));
    cancel.addEventListener("click", () => {
      close();
      opener.focus();
    });
    function close() {
      editorRow.remove();
      if (editing?.row === row) editing = null;
    }
    editing = { row, close };
  }

  async function loadTexts() {
    const locale = localeSelect.value;
    const q = search.value.trim();
    const page = await api.get("/api/v1/i18n/texts", { locale, q, offset, limit: PAGE_SIZE });
    if (stopped || locale !== localeSelect.value || q !== search.value.trim()) return;
    editing = null;
    problem.hidden = true;
    if (!page.items.length) {
      tbody.replaceChildren(h("tr", {}, h("td", { colspan: cols.length, class: "empty" }, t("panel.texts.none"))));
    } else {
      tbody.replaceChildren(...page.items.map(textRow));
    }
    const last = offset + page.items.length;
    summary.textContent = t("panel.texts.summary", { count: page.count });
    pager.replaceChildren(
      h("button", { type: "button", class: "button button-small", disabled: offset === 0, onclick: () => ((offset = Math.max(0, offset - PAGE_SIZE)), loadTexts().catch(fail)) }, t("panel.common.previous")),
      h("span", { class: "muted" }, t("panel.common.range", { first: page.items.length ? offset + 1 : 0, last, total: page.count })),
      h("button", { type: "button", class: "button button-small", disabled: last >= page.count, onclick: () => ((offset += PAGE_SIZE), loadTexts().catch(fail)) }, t("panel.common.next")),
    );
  }

  let typing = 0;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => ((offset = 0), loadTexts().catch(fail)), TYPING_MS);
  });
  localeSelect.addEventListener("change", () => ((offset = 0), loadTexts().catch(fail)));

  // A new text: only template keys may be added (apps render them); others come from catalogs.
  const newKey = h("input", { class: "input mono", autocomplete: "off", placeholder: "template.greeting", required: true });
  const newText = h("textarea", { class: "input", rows: "2", maxlength: "4000", required: true });
  const newLocale = h("select", { class: "select" });
  const newError = h("p", { class: "form-error", role: "alert", hidden: true });
  const newForm = h(
    "form",
    { class: "stack" },
    h("div", { class: "toolbar" }, field(t("panel.texts.key"), newKey), field(t("panel.texts.locale"), newLocale)),
    field(t("panel.texts.text"), newText, t("panel.texts.new_hint")),
    newError,
    h("div", { class: "button-row" }, h("button", { type: "submit", class: "button button-primary" }, t("panel.texts.add_text"))),
  );
  newForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    newError.hidden = true;
    try {
      const saved = await api.put(`/api/v1/i18n/texts/${enc(newLocale.value)}/${enc(newKey.value.trim())}`, { text: newText.value });
      newForm.reset();
      search.value = saved.key;
      localeSelect.value = saved.locale;
      offset = 0;
      await loadTexts();
    } catch (failure) {
      newError.textContent = failure.message || t("panel.shell.network_error");
      newError.hidden = false;
    }
  });

  // ---- locales
  const localesBody = h("tbody");
  const localeCols = [N_("panel.texts.col_locale"), N_("panel.texts.col_kind"), N_("panel.texts.col_overrides"), N_("panel.texts.col_actions")];
  const addLocaleInput = h("input", { class: "input", autocomplete: "off", placeholder: "fr", required: true, maxlength: "35" });
  const localeError = h("p", { class: "form-error", role: "alert", hidden: true });
  const addLocaleForm = h(
    "form",
    { class: "toolbar" },
    field(t("panel.texts.new_locale"), addLocaleInput),
    h("div", { class: "toolbar-buttons" }, h("button", { type: "submit", class: "button button-primary" }, t("panel.texts.add_locale"))),
  );

  function fillLocaleSelects() {
    const chosen = localeSelect.value || ctx.query.get("locale") || ctx.i18n.locale;
    const options = (withAll) => [
      withAll ? h("option", { value: "" }, t("panel.texts.all_locales")) : null,
      ...locales.map((item) => h("option", { value: item.locale }, `${item.name} (${item.locale})`)),
    ];
    replace(localeSelect, ...options(true));
    localeSelect.value = locales.some((item) => item.locale === chosen) ? chosen : "";
    for (const select of [newLocale, chatLocale]) {
      const value = select.value || localeSelect.value || locales[0]?.locale;
      replace(select, ...options(false));
      if (value) select.value = value;
    }
  }

  async function loadLocales() {
    const list = await api.get("/api/v1/i18n/locales");
    if (stopped) return;
    locales = list.items;
    fillLocaleSelects();
    localesBody.replaceChildren(
      ...locales.map((item) => {
        const kind = [h("span", { class: "badge" }, item.catalog ? t("panel.texts.kind_catalog") : t("panel.texts.kind_added"))];
        if (item.default) kind.push(h("span", { class: "badge badge-scheduling" }, t("panel.texts.default")));
        const remove = !item.catalog && !item.default
          ? h("button", { type: "button", class: "button button-small button-danger", onclick: () => removeLocale(item) }, t("panel.texts.remove"))
          : null;
        const cells = [
          [h("span", { class: "strong" }, item.name), " ", h("span", { class: "mono muted" }, item.locale)],
          h("span", { class: "badge-row" }, kind),
          format.number(item.overrides),
          remove,
        ];
        return h("tr", { dataset: { locale: item.locale } }, cells.map((cell, i) => h("td", { "data-label": t(localeCols[i]) }, h("div", { class: "cell" }, cell))));
      }),
    );
  }

  async function removeLocale(item) {
    const removed = await confirmAction(ctx, {
      title: t("panel.texts.remove_locale_title", { locale: item.locale }),
      text: t("panel.texts.remove_locale_text"),
      confirm: t("panel.texts.remove"),
      action: () => api.del(`/api/v1/i18n/locales/${enc(item.locale)}`),
    });
    if (!removed) return;
    try {
      await loadLocales();
      await loadTexts();
    } catch (failure) {
      fail(failure);
    }
  }

  addLocaleForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    localeError.hidden = true;
    try {
      const added = await api.post("/api/v1/i18n/locales", { locale: addLocaleInput.value.trim() });
      addLocaleForm.reset();
      await loadLocales();
      localeSelect.value = added.locale;
      offset = 0;
      await loadTexts();
    } catch (failure) {
      localeError.textContent = failure.message || t("panel.shell.network_error");
      localeError.hidden = false;
    }
  });

  // ---- chat locales
  const chatsBody = h("tbody");
  const chatCols = [N_("panel.texts.col_platform"), N_("panel.texts.col_chat"), N_("panel.texts.col_locale"), N_("panel.texts.col_actions")];
  const chatPlatform = h("input", { class: "input", autocomplete: "off", placeholder: "qq", required: true, maxlength: "64" });
  const chatId = h("input", { class: "input", autocomplete: "off", required: true, maxlength: "128" });
  const chatLocale = h("select", { class: "select" });
  const chatError = h("p", { class: "form-error", role: "alert", hidden: true });
  const chatForm = h(
    "form",
    { class: "toolbar" },
    field(t("panel.texts.platform"), chatPlatform),
    field(t("panel.texts.chat_id"), chatId),
    field(t("panel.texts.locale"), chatLocale),
    h("div", { class: "toolbar-buttons" }, h("button", { type: "submit", class: "button button-primary" }, t("panel.texts.set_chat_locale"))),
  );
  const chatPath = (platform, id) => `/api/v1/chats/${enc(platform)}/${enc(id)}/locale`;

  async function loadChats() {
    const list = await api.get("/api/v1/i18n/chat-locales");
    if (stopped) return;
    if (!list.items.length) {
      chatsBody.replaceChildren(h("tr", {}, h("td", { colspan: chatCols.length, class: "empty" }, t("panel.texts.no_chats"))));
      return;
    }
    chatsBody.replaceChildren(
      ...list.items.map((item) => {
        const remove = h("button", { type: "button", class: "button button-small button-danger" }, t("panel.texts.forget"));
        remove.addEventListener("click", async () => {
          try {
            await api.del(chatPath(item.platform, item.chat_id));
            await loadChats();
          } catch (failure) {
            fail(failure);
          }
        });
        const cells = [item.platform, h("span", { class: "mono" }, item.chat_id), item.locale, remove];
        return h("tr", { dataset: { chat: `${item.platform}/${item.chat_id}` } }, cells.map((cell, i) => h("td", { "data-label": t(chatCols[i]) }, h("div", { class: "cell" }, cell))));
      }),
    );
  }

  chatForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    chatError.hidden = true;
    try {
      await api.put(chatPath(chatPlatform.value.trim(), chatId.value.trim()), { locale: chatLocale.value });
      chatId.value = "";
      await loadChats();
    } catch (failure) {
      chatError.textContent = failure.message || t("panel.shell.network_error");
      chatError.hidden = false;
    }
  });

  const table = (heads, body, caption) => cardTable(t, heads, body, caption);

  root.append(
    h("div", { class: "page-head" }, h("h1", {}, t("panel.texts.title")), summary),
    h("p", { class: "muted" }, t("panel.texts.intro")),
    problem,
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("panel.texts.texts")),
      h("div", { class: "toolbar" }, field(t("panel.texts.locale"), localeSelect), field(t("panel.texts.search"), search)),
      table(cols, tbody, t("panel.texts.texts")),
      pager,
      h("details", { class: "text-new" }, h("summary", {}, t("panel.texts.new_text")), newForm),
    ),
    h(
      "div",
      { class: "grid grid-2" },
      h("section", { class: "card" }, h("h2", {}, t("panel.texts.locales")), table(localeCols, localesBody, t("panel.texts.locales")), addLocaleForm, localeError),
      h("section", { class: "card" }, h("h2", {}, t("panel.texts.chat_locales")), h("p", { class: "muted small" }, t("panel.texts.chat_intro")), table(chatCols, chatsBody, t("panel.texts.chat_locales")), chatForm, chatError),
    ),
  );

  (async () => {
    await loadLocales();
    await Promise.all([loadTexts(), loadChats()]);
  })().catch(fail);
  return () => {
    stopped = true;
    clearTimeout(typing);
  };
}
