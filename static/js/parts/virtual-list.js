// A long list that renders only the rows in view: a bounded buffer of items (the oldest fall
// out first), a spacer as tall as all of them, and a small pool of fixed-height rows moved into
// place as it scrolls. 100 new items a second cost one short render per animation frame, and
// neither the DOM nor the memory grows with the time the list stays open.
import { h, perFrame } from "../dom.js";

const OVERSCAN = 6; // rows drawn above and below the view, so a fast scroll shows no gap

/**
 * createVirtualList({rowHeight, max, label, tail, makeRow, fillRow, onFollow})
 *   makeRow() → a row element; fillRow(row, item, index) writes an item into it.
 *   tail: the view sticks to the newest (last) items while scrolled to the end, as `tail -f`.
 *   onFollow(following, unseen) hears whether it does, and how many arrived out of view.
 * → {element, append(items), replaceAll(items), clear(), items(), scrollToEnd(), destroy()}
 */
export function createVirtualList({ rowHeight, max = 5000, label = "", tail = true, makeRow, fillRow, onFollow = () => {} }) {
  let buffer = [];
  let following = tail;
  let unseen = 0;
  const pool = [];
  const spacer = h("div", { class: "vlist-spacer" });
  const element = h("div", { class: "vlist", tabindex: "0", role: "region", "aria-label": label }, spacer);

  function tell() {
    onFollow(following, unseen);
  }

  function render() {
    const height = element.clientHeight || rowHeight * 20;
    spacer.style.height = `${buffer.length * rowHeight}px`;
    const first = Math.max(0, Math.floor(element.scrollTop / rowHeight) - OVERSCAN);
    const count = Math.min(buffer.length - first, Math.ceil(height / rowHeight) + OVERSCAN * 2);
    while (pool.length < count) {
      const row = makeRow();
      row.classList.add("vlist-row");
      row.style.height = `${rowHeight}px`;
      pool.push(row);
      element.append(row);
    }
    pool.forEach((row, i) => {
      const index = first + i;
      if (i >= count) {
        row.hidden = true;
        return;
      }
      row.hidden = false;
      row.style.transform = `translateY(${index * rowHeight}px)`;
      if (row.__item !== buffer[index]) {
        row.__item = buffer[index];
        fillRow(row, buffer[index], index);
      }
    });
  }
  const renderSoon = perFrame(render);

  function atEnd() {
    return element.scrollTop + element.clientHeight >= element.scrollHeight - rowHeight;
  }

  function scrollToEnd() {
    if (!tail) {
      element.scrollTop = 0;
      render();
      return;
    }
    following = true;
    unseen = 0;
    spacer.style.height = `${buffer.length * rowHeight}px`;
    element.scrollTop = element.scrollHeight;
    render();
    tell();
  }

  element.addEventListener("scroll", () => {
    const now = tail && atEnd();
    if (now !== following) {
      following = now;
      if (now) unseen = 0;
      tell();
    }
    renderSoon();
  }, { passive: true });

  return {
    element,
    /** Add items at the end; the oldest beyond `max` fall out (the view stays where it was). */
    append(items) {
      if (!items.length) return;
      buffer.push(...items);
      const dropped = Math.max(0, buffer.length - max);
      if (dropped) buffer.splice(0, dropped);
      if (following) {
        spacer.style.height = `${buffer.length * rowHeight}px`;
        element.scrollTop = element.scrollHeight;
      } else if (tail) {
        // Keep the rows the reader looks at in place while older ones leave above them.
        if (dropped) element.scrollTop = Math.max(0, element.scrollTop - dropped * rowHeight);
        unseen += items.length;
        tell();
      }
      renderSoon();
    },
    replaceAll(items) {
      buffer = items.slice(-max);
      for (const row of pool) row.__item = undefined;
      scrollToEnd();
    },
    clear() {
      buffer = [];
      for (const row of pool) row.__item = undefined;
      scrollToEnd();
    },
    items: () => buffer,
    scrollToEnd,
    refresh() {
      for (const row of pool) row.__item = undefined;
      render();
    },
    destroy() {
      buffer = [];
      pool.length = 0;
      element.replaceChildren();
    },
  };
}
