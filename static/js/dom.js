// Build DOM nodes without HTML strings: text is always text, never markup.
const SVG_NS = "http://www.w3.org/2000/svg";

function apply(node, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (name === "text") {
      node.textContent = value;
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** h("button", {class: "x", onclick: fn}, "text", child…) → an HTML element. */
export function h(tag, attrs, ...children) {
  return append(apply(document.createElement(tag), attrs), children);
}

/** s("path", {d: "…"}) → an SVG element. */
export function s(tag, attrs, ...children) {
  return append(apply(document.createElementNS(SVG_NS, tag), attrs), children);
}

/** Replace every child of `node` with `children`. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** Run `fn` at most once per animation frame, with the latest arguments. */
export function perFrame(fn) {
  let pending = 0;
  let latest = [];
  return (...args) => {
    latest = args;
    if (!pending) {
      pending = requestAnimationFrame(() => {
        pending = 0;
        fn(...latest);
      });
    }
  };
}

let ids = 0;
/** A fresh id for label/aria wiring. */
export function uid(prefix = "k") {
  ids += 1;
  return `${prefix}-${ids}`;
}
