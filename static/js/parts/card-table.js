// A table that turns into cards at phone width: a hidden caption, translated column heads.
import { h } from "../dom.js";

/** cardTable(t, headKeys, tbody, caption) → the table in its scrolling wrapper. */
export function cardTable(t, heads, body, caption) {
  return h(
    "div",
    { class: "table-wrap" },
    h("table", { class: "table table-cards" }, h("caption", { class: "visually-hidden" }, caption), h("thead", {}, h("tr", {}, heads.map((key) => h("th", { scope: "col" }, t(key))))), body),
  );
}
