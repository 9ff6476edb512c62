// What the message pages share: status badges of messages, deliveries and replies, a chat
// and a sender in a few words, links to a message's pages, and a small confirm dialog.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";

export const CHAT_KINDS = {
  group: N_("panel.simulate.group"),
  private: N_("panel.simulate.private"),
};

export const MESSAGE_STATUSES = {
  pending: N_("panel.msg_status.pending"),
  unrouted: N_("panel.msg_status.unrouted"),
  handled: N_("panel.msg_status.handled"),
  failed: N_("panel.msg_status.failed"),
  interrupted: N_("panel.msg_status.interrupted"),
};
const DELIVERY_STATUSES = {
  pending: N_("panel.delivery_status.pending"),
  sent: N_("panel.delivery_status.sent"),
  acked: N_("panel.delivery_status.acked"),
  failed: N_("panel.delivery_status.failed"),
  expired: N_("panel.delivery_status.expired"),
};
const REPLY_STATUSES = {
  pending: N_("panel.reply_status.pending"),
  sent: N_("panel.reply_status.sent"),
  failed: N_("panel.reply_status.failed"),
};
// The tone of a status: ok (green), warn (amber), bad (red) or plain.
const TONES = {
  handled: "ok",
  acked: "ok",
  sent: "ok",
  unrouted: "warn",
  pending: "plain",
  interrupted: "warn",
  expired: "warn",
  failed: "bad",
};

function badge(t, texts, status) {
  return h("span", { class: `badge tone-${TONES[status] || "plain"}`, dataset: { status } }, texts[status] ? t(texts[status]) : status);
}

export const messageBadge = (t, status) => badge(t, MESSAGE_STATUSES, status);

/** A notice's or request's kind ("notice.group_increase") as a badge; nothing for a chat message. */
export function kindBadge(kind) {
  if (!kind || kind === "message") return "";
  const tone = kind.startsWith("request.") ? "warn" : "plain";
  return h("span", { class: `badge kind-badge tone-${tone}`, dataset: { kind } }, kind);
}
export const deliveryBadge = (t, status) => badge(t, DELIVERY_STATUSES, status);
export const replyBadge = (t, status) => badge(t, REPLY_STATUSES, status);

/** "group 123 · Friends" */
export function chatText(chat) {
  if (!chat) return "";
  return [`${chat.type} ${chat.id}`, chat.name].filter(Boolean).join(" · ");
}

/** "Alice (456)" or "456" */
export function senderText(sender) {
  if (!sender) return "";
  return sender.name ? `${sender.name} (${sender.id})` : sender.id;
}

const enc = encodeURIComponent;
export const messagePath = (id) => `/messages/${enc(id)}`;
export const whyPath = (id, app) => `/messages/${enc(id)}/why${app ? `?app=${enc(app)}` : ""}`;

/** The transport of a driver or an app as operators know it. */
export function transportName(t, transport) {
  const names = {
    "socket.io": "Socket.IO",
    onebot: "OneBot v11",
    websocket: "WebSocket",
    simulator: t("panel.drivers.simulator"),
  };
  return names[transport] || transport;
}

/** Ask a yes/no question in a <dialog>: resolves true when confirmed. */
export function confirmDialog({ t, title, text, confirm, danger = false }) {
  return new Promise((resolve) => {
    const heading = uid("confirm");
    const yes = h("button", { type: "submit", class: ["button", danger ? "button-danger" : "button-primary"] }, confirm);
    const no = h("button", { type: "button", class: "button" }, t("panel.common.cancel"));
    const form = h("form", { method: "dialog", class: "stack" }, h("h2", { id: heading }, title), h("p", { class: "muted" }, text), h("div", { class: "button-row" }, no, yes));
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": heading }, form);
    let answer = false;
    no.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      answer = true;
      dialog.close();
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}

/** Copy text to the clipboard; plain-HTTP pages (no Clipboard API) copy from a selection. */
export async function copyText(text, input) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      /* refused: try the selection below */
    }
  }
  if (!input) return false;
  input.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}
