// One table of the database, read-only: a page of rows at a time, ordered by any column
// (a click on its header; again for descending). Secret columns are never sent by the Master.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";

export const title = N_("panel.db.table_title");

const PAGE_SIZE = 50;

function shown(value) {
  if (value === null || value === undefined) return "∅";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function mount(root, ctx) {
  const { t, api, router, format } = ctx;
  const name = ctx.params.name;
  let offset = Number(ctx.query.get("offset")) || 0;
  let order = ctx.query.get("order") || "";
  let stopped = false;

  const summary = h("p", { class: "muted", role: "status" });
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const note = h("p", { class: "muted small", hidden: true });
  const thead = h("thead");
  const tbody = h("tbody");
  const pager = h("div", { class: "pager" });
  // The headers sort on a desktop; at phone width (rows as cards) this select does.
  const orderId = uid("order");
  const orderSelect = h("select", { id: orderId, class: "select" });
  orderSelect.addEventListener("change", () => ((order = orderSelect.value), (offset = 0), go()));
  root.append(
    h("p", { class: "small" }, h("a", { href: router.href("/database") }, t("panel.db.back"))),
    h("div", { class: "page-head" }, h("h1", { class: "mono-title" }, name), summary),
    problem,
    h(
      "section",
      { class: "card" },
      h("div", { class: "toolbar" }, h("div", { class: "field field-row" }, h("label", { for: orderId }, t("panel.db.order_by")), orderSelect)),
      note,
      h("div", { class: "table-wrap" }, h("table", { class: "table table-cards db-rows" }, h("caption", { class: "visually-hidden" }, name), thead, tbody)),
      pager,
    ),
  );

  function go() {
    const params = new URLSearchParams({ ...(order ? { order } : {}), ...(offset ? { offset: String(offset) } : {}) });
    const text = params.toString();
    history.replaceState(null, "", router.href(`/database/tables/${encodeURIComponent(name)}${text ? `?${text}` : ""}`));
    load();
  }

  function header(column) {
    const sorted = order === column.name ? "ascending" : order === `-${column.name}` ? "descending" : "none";
    const button = h(
      "button",
      { type: "button", class: "sort-button", onclick: () => ((order = order === column.name ? `-${column.name}` : column.name), (offset = 0), go()) },
      column.name,
      sorted === "none" ? "" : sorted === "ascending" ? " ▲" : " ▼",
    );
    return h("th", { scope: "col", "aria-sort": sorted, title: column.type }, button);
  }

  async function load() {
    try {
      const page = await api.get(`/api/v1/db/tables/${encodeURIComponent(name)}`, { limit: PAGE_SIZE, offset, order: order || undefined });
      if (stopped) return;
      problem.hidden = true;
      summary.textContent = t("panel.db.table_rows", { total: page.total });
      note.hidden = !page.hidden.length;
      note.textContent = t("panel.db.hidden_columns", { columns: page.hidden.join(", ") });
      thead.replaceChildren(h("tr", {}, page.columns.map(header)));
      orderSelect.replaceChildren(
        h("option", { value: "" }, t("panel.db.order_key")),
        ...page.columns.flatMap((column) => [
          h("option", { value: column.name, selected: order === column.name }, `${column.name} ▲`),
          h("option", { value: `-${column.name}`, selected: order === `-${column.name}` }, `${column.name} ▼`),
        ]),
      );
      tbody.replaceChildren(
        ...(page.items.length
          ? page.items.map((item) =>
              h(
                "tr",
                {},
                page.columns.map((column) => {
                  const text = shown(item[column.name]);
                  return h("td", { "data-label": column.name, class: "clip mono", title: text.length > 40 ? text : null }, text);
                }),
              ),
            )
          : [h("tr", {}, h("td", { colspan: page.columns.length || 1, class: "empty" }, t("panel.db.no_rows")))]),
      );
      const first = page.items.length ? offset + 1 : 0;
      pager.replaceChildren(
        h("button", { type: "button", class: "button button-small", disabled: offset === 0, onclick: () => ((offset = Math.max(0, offset - PAGE_SIZE)), go()) }, t("panel.common.previous")),
        h("span", { class: "muted" }, t("panel.common.range", { first: format.number(first), last: format.number(offset + page.items.length), total: format.number(page.total) })),
        h("button", { type: "button", class: "button button-small", disabled: offset + PAGE_SIZE >= page.total, onclick: () => ((offset += PAGE_SIZE), go()) }, t("panel.common.next")),
      );
    } catch (error) {
      if (stopped) return;
      problem.textContent = error.message || t("panel.shell.network_error");
      problem.hidden = false;
    }
  }

  load();
  return () => {
    stopped = true;
  };
}
