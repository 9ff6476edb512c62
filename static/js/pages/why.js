// Why did app X (not) get this message? For a stored message (/messages/:id/why) and for one
// typed in (/why): the routing explained name by name, with the app asked about first.
import { h, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { CHAT_KINDS, chatText, messageBadge, messagePath, senderText } from "../parts/message-bits.js";
import { routingView } from "../parts/routing-view.js";

export const title = N_("panel.why.title");

const AGAIN_MS = 1000; // apps come and go: the explanation follows, at most once a second

export function mount(root, ctx) {
  const { t, api, live, router, query, params } = ctx;
  const id = params.id || null;
  let stopped = false;
  let focus = query.get("app") || "";
  let explanation = null;
  let reexplain = null; // how to ask again, once a first answer came
  let againTimer = 0;
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const about = h("div");
  const result = h("div", { class: "why-result", "aria-live": "polite" });

  function setFocus(name) {
    focus = name;
    // Keep the choice in the address (a link to "why did weather not get it") without a reload.
    const here = id ? `/messages/${encodeURIComponent(id)}/why` : "/why";
    const search = new URLSearchParams(id ? {} : typed());
    if (name) search.set("app", name);
    history.replaceState(null, "", router.href(search.toString() ? `${here}?${search}` : here));
    render();
  }

  function render() {
    if (explanation) result.replaceChildren(routingView(ctx, explanation, { focus, onFocus: setFocus }));
  }

  function fail(error) {
    if (stopped) return;
    problem.textContent = error.message;
    problem.hidden = false;
  }

  const controls = {};
  function typed() {
    if (!controls.content) return {};
    return {
      content: controls.content.value,
      platform: controls.platform.value.trim(),
      chat_type: controls.chat_type.value,
      chat_id: controls.chat_id.value.trim(),
      sender: controls.sender.value.trim(),
    };
  }

  root.append(
    id ? h("p", {}, h("a", { href: router.href(messagePath(id)) }, `← ${t("panel.message.title")}`)) : "",
    h("div", { class: "page-head" }, h("h1", {}, t("panel.why.title"))),
    h("p", { class: "muted" }, id ? t("panel.why.intro_message") : t("panel.why.intro_typed")),
    about,
    problem,
    result,
  );

  if (id) {
    reexplain = async () => {
      explanation = await api.get(`/api/v1/messages/${encodeURIComponent(id)}/routing`);
      if (!stopped) render();
    };
    (async () => {
      const [message, answer] = await Promise.all([api.get(`/api/v1/messages/${encodeURIComponent(id)}`), api.get(`/api/v1/messages/${encodeURIComponent(id)}/routing`)]);
      if (stopped) return;
      about.replaceChildren(
        h(
          "section",
          { class: "card why-message" },
          h("p", { class: "message-text" }, message.content || t("panel.messages.no_text")),
          h("p", { class: "muted small" }, [message.platform, chatText(message.chat), senderText(message.sender)].join(" · "), " ", messageBadge(t, message.status)),
        ),
      );
      explanation = answer;
      render();
    })().catch(fail);
  } else {
    const field = (name, label, control, wide = false) => {
      control.id = uid(name);
      controls[name] = control;
      return h("div", { class: ["field", wide ? "field-wide" : ""] }, h("label", { for: control.id }, label), control);
    };
    const form = h(
      "form",
      { class: "filters why-form" },
      field("content", t("panel.why.content"), h("textarea", { class: "input", rows: "2", maxlength: "10000" }, query.get("content") || ""), true),
      field("platform", t("panel.messages.platform"), h("input", { class: "input", maxlength: "64", value: query.get("platform") || "simulator", autocomplete: "off" })),
      field(
        "chat_type",
        t("panel.why.chat_type"),
        h("select", { class: "select" }, ["group", "private"].map((type) => h("option", { value: type, selected: (query.get("chat_type") || "group") === type }, t(CHAT_KINDS[type])))),
      ),
      field("chat_id", t("panel.why.chat_id"), h("input", { class: "input", maxlength: "128", value: query.get("chat_id") || "1", autocomplete: "off" })),
      field("sender", t("panel.why.sender_id"), h("input", { class: "input", maxlength: "128", value: query.get("sender") || "1", autocomplete: "off" })),
      h("div", { class: "field field-end" }, h("button", { type: "submit", class: "button button-primary" }, t("panel.why.explain"))),
    );
    about.replaceChildren(h("section", { class: "card" }, form));
    let lastBody = null;
    const explain = async () => {
      problem.hidden = true;
      const values = typed();
      const body = {
        content: values.content,
        platform: values.platform,
        chat: { type: values.chat_type, id: values.chat_id },
        sender: { id: values.sender },
      };
      explanation = await api.post("/api/v1/routing/explain", body);
      lastBody = body;
      if (stopped) return;
      reexplain = async () => {
        const body = explanation && (await api.post("/api/v1/routing/explain", lastBody));
        if (!stopped && body) {
          explanation = body;
          render();
        }
      };
      setFocus(focus);
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      explain().catch(fail);
    });
    if (query.get("content") !== null) explain().catch(fail); // a link with the message in it
  }

  const again = () => {
    if (againTimer || !reexplain) return;
    againTimer = setTimeout(() => {
      againTimer = 0;
      reexplain().catch(fail);
    }, AGAIN_MS);
  };
  const unsubscribe = live.subscribe(["app.state", "app.connected"], again, { onReset: again });
  return () => {
    stopped = true;
    clearTimeout(againTimer);
    unsubscribe();
  };
}
