// Files: browse the file area folder by folder (sorted, paged, with each folder's size), upload
// in resumable chunks with progress, download, make folders, rename, move, delete after asking,
// and edit small text files. Changes made elsewhere (another tab, the API) show up live.
import { h, s, uid } from "../dom.js";
import { N_ } from "../i18n.js";
import { ask } from "../parts/dialog.js";
import { editText } from "../parts/text-editor.js";
import { createUploader } from "../parts/uploader.js";

export const title = N_("panel.files.title");

const PAGE_SIZE = 100;
const USAGE_SECONDS = 0.5; // per folder row: a huge tree shows "at least" instead of waiting
const RELOAD_MS = 500; // changes elsewhere: at most two reloads a second
const EDIT_LIMIT = 1024 * 1024; // files.max_edit's default: bigger ones are not offered
const TEXT_NAMES = /\.(txt|md|json|jsonl|ya?ml|toml|ini|cfg|conf|csv|tsv|log|py|js|mjs|ts|html?|css|xml|sh|env|properties|sql|po)$/i;
const SORTS = {
  name: N_("panel.files.sort_name"),
  size: N_("panel.files.sort_size"),
  modified: N_("panel.files.sort_modified"),
  kind: N_("panel.files.sort_kind"),
};
const STATES = {
  queued: N_("panel.files.upload_queued"),
  uploading: N_("panel.files.upload_uploading"),
  paused: N_("panel.files.upload_paused"),
  committing: N_("panel.files.upload_committing"),
  done: N_("panel.files.upload_done"),
  failed: N_("panel.files.upload_failed"),
  cancelled: N_("panel.files.upload_cancelled"),
};

let uploader = null; // outlives the page, so that moving to another folder keeps uploading

const enc = encodeURIComponent;
const join = (folder, name) => (folder ? `${folder}/${name}` : name);
const parentOf = (path) => path.split("/").slice(0, -1).join("/");

/** A resumable upload's part file: listed, shown for what it is, offered only for deletion. */
const isPart = (entry) => entry.kind === "file" && /^\.kenkogo-upload-[0-9a-f]+\.part$/.test(entry.name);

function icon(kind) {
  const d = kind === "dir" ? "M2 5.5A1.5 1.5 0 0 1 3.5 4h3.6l1.6 1.8h7.8A1.5 1.5 0 0 1 18 7.3v7.2a1.5 1.5 0 0 1-1.5 1.5h-13A1.5 1.5 0 0 1 2 14.5z" : "M5 2.5h6.5L15 6v11.5H5z M11.5 2.5V6H15";
  return s("svg", { class: `file-icon file-icon-${kind}`, viewBox: "0 0 20 20", "aria-hidden": "true" }, s("path", { d }));
}

export function mount(root, ctx) {
  const { t, api, live, router, format } = ctx;
  uploader ??= createUploader(api);
  const folder = ctx.query.get("path") || "";
  const sort = SORTS[ctx.query.get("sort")] ? ctx.query.get("sort") : "name";
  const order = ctx.query.get("order") === "desc" ? "desc" : "asc";
  let offset = 0;
  let listing = null;
  let unfinished = [];
  let stopped = false;
  let reloadTimer = 0;
  let generation = 0;
  let loadedAt = 0;

  const href = (path, extra = {}) => {
    const params = new URLSearchParams({ ...(path ? { path } : {}), ...(sort !== "name" ? { sort } : {}), ...(order !== "asc" ? { order } : {}), ...extra });
    const text = params.toString();
    return router.href(text ? `/files?${text}` : "/files");
  };

  const summary = h("p", { class: "muted", role: "status" });
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const crumbs = h(
    "nav",
    { class: "breadcrumbs", "aria-label": t("panel.files.location") },
    h(
      "ol",
      {},
      h("li", {}, h("a", { href: href(""), "aria-current": folder ? null : "page" }, t("panel.files.root"))),
      folder.split("/").filter(Boolean).map((name, i, all) => {
        const path = all.slice(0, i + 1).join("/");
        return h("li", {}, h("a", { href: href(path), "aria-current": path === folder ? "page" : null }, name));
      }),
    ),
  );
  const picker = h("input", { type: "file", multiple: true, hidden: true, "data-role": "upload-input" });
  const uploadButton = h("button", { type: "button", class: "button button-primary", onclick: () => picker.click() }, t("panel.files.upload"));
  const folderButton = h("button", { type: "button", class: "button", onclick: () => newFolder() }, t("panel.files.new_folder"));
  const sortId = uid("sort");
  const orderId = uid("order");
  const sortSelect = h(
    "select",
    { id: sortId, class: "select" },
    Object.entries(SORTS).map(([value, key]) => h("option", { value, selected: value === sort }, t(key))),
  );
  const orderSelect = h(
    "select",
    { id: orderId, class: "select" },
    h("option", { value: "asc", selected: order === "asc" }, t("panel.files.ascending")),
    h("option", { value: "desc", selected: order === "desc" }, t("panel.files.descending")),
  );
  const resortTo = () => {
    const params = new URLSearchParams({ ...(folder ? { path: folder } : {}), sort: sortSelect.value, order: orderSelect.value });
    router.go(`/files?${params}`);
  };
  sortSelect.addEventListener("change", resortTo);
  orderSelect.addEventListener("change", resortTo);

  const uploadsCard = h("section", { class: "card", hidden: true, "aria-labelledby": uid("uploads") });
  const uploadsList = h("ul", { class: "upload-list" });
  const unfinishedList = h("ul", { class: "upload-list" });
  const uploadsHeading = h("h2", { id: uploadsCard.getAttribute("aria-labelledby") }, t("panel.files.uploads"));
  const clearButton = h("button", { type: "button", class: "button button-small button-quiet", onclick: () => (uploader.clear(), renderUploads()) }, t("panel.files.clear_finished"));
  uploadsCard.append(h("div", { class: "card-head" }, uploadsHeading, clearButton), uploadsList, unfinishedList);

  const headers = [N_("panel.files.col_name"), N_("panel.files.col_size"), N_("panel.files.col_modified"), N_("panel.files.col_actions")];
  const tbody = h("tbody");
  const pager = h("div", { class: "pager" });
  root.append(
    h("div", { class: "page-head" }, h("h1", {}, t("panel.files.title")), summary),
    crumbs,
    problem,
    h(
      "div",
      { class: "toolbar files-toolbar" },
      h("div", { class: "button-row button-row-start" }, uploadButton, folderButton, picker),
      h("div", { class: "field field-row" }, h("label", { for: sortId }, t("panel.files.sort")), sortSelect, h("label", { for: orderId, class: "visually-hidden" }, t("panel.files.order")), orderSelect),
    ),
    uploadsCard,
    h(
      "section",
      { class: "card" },
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table table-cards files-table" },
          h("caption", { class: "visually-hidden" }, t("panel.files.contents")),
          h("thead", {}, h("tr", {}, headers.map((key) => h("th", { scope: "col" }, t(key))))),
          tbody,
        ),
      ),
      pager,
    ),
  );

  function fail(error) {
    if (stopped || error?.name === "AbortError") return;
    problem.textContent = error.message || t("panel.shell.network_error");
    problem.hidden = false;
  }

  async function act(work) {
    problem.hidden = true;
    try {
      await work();
    } catch (error) {
      fail(error);
    }
  }

  // -- the listing ---------------------------------------------------------------------------

  async function load() {
    const mine = ++generation;
    const [page, usage, sessions] = await Promise.all([
      api.get("/api/v1/files", { path: folder, sort, order, limit: PAGE_SIZE, offset }),
      api.get("/api/v1/files/usage", { path: folder }).catch(() => null),
      api.get("/api/v1/files/uploads").catch(() => ({ items: [] })),
    ]);
    if (stopped || mine !== generation) return;
    listing = page;
    loadedAt = Date.now();
    unfinished = sessions.items;
    problem.hidden = true;
    const said = usage?.complete ? N_("panel.files.summary") : N_("panel.files.summary_partial");
    summary.textContent = usage
      ? t(said, { items: page.total, size: format.bytes(usage.size), files: usage.files, folders: usage.folders })
      : t("panel.files.summary_items", { items: page.total });
    render();
    renderUploads();
    sizeFolders(mine);
  }

  function reloadSoon() {
    if (reloadTimer || stopped) return;
    reloadTimer = setTimeout(() => {
      reloadTimer = 0;
      load().catch(fail);
    }, RELOAD_MS);
  }

  function render() {
    const items = listing.items;
    if (!items.length) {
      tbody.replaceChildren(h("tr", {}, h("td", { colspan: headers.length, class: "empty" }, folder ? t("panel.files.empty_folder") : t("panel.files.empty_root"))));
    } else {
      tbody.replaceChildren(...items.map(row));
    }
    const first = items.length ? offset + 1 : 0;
    pager.hidden = listing.total <= PAGE_SIZE;
    pager.replaceChildren(
      h("button", { type: "button", class: "button button-small", disabled: offset === 0, onclick: () => ((offset = Math.max(0, offset - PAGE_SIZE)), load().catch(fail)) }, t("panel.common.previous")),
      h("span", { class: "muted" }, t("panel.common.range", { first, last: offset + items.length, total: listing.total })),
      h("button", { type: "button", class: "button button-small", disabled: offset + PAGE_SIZE >= listing.total, onclick: () => ((offset += PAGE_SIZE), load().catch(fail)) }, t("panel.common.next")),
    );
  }

  function cell(key, ...children) {
    return h("td", { "data-label": t(key) }, children);
  }

  function row(entry) {
    const isDir = entry.kind === "dir";
    const name = isDir
      ? h("a", { href: href(entry.path), class: "file-name" }, icon("dir"), h("span", {}, entry.name))
      : h("span", { class: "file-name" }, icon(entry.kind === "file" ? "file" : "other"), h("span", {}, entry.name));
    let size;
    if (isDir) size = h("span", { class: "muted", "data-usage": entry.path }, "…");
    else if (entry.kind === "symlink") size = h("span", { class: "muted mono" }, `→ ${entry.target ?? ""}`);
    else size = format.bytes(entry.size);
    const part = isPart(entry);
    if (part) name.append(h("span", { class: "badge" }, t("panel.files.part_file")));
    const buttons = [];
    if (entry.kind === "file" && !part) {
      buttons.push(h("a", { class: "button button-small", href: `/api/v1/files/content?path=${enc(entry.path)}`, download: entry.name }, t("panel.files.download")));
      if (entry.size <= EDIT_LIMIT && (TEXT_NAMES.test(entry.name) || !entry.name.includes("."))) {
        buttons.push(h("button", { type: "button", class: "button button-small", onclick: () => act(() => edit(entry)) }, t("panel.files.edit")));
      }
    }
    if (part) {
      buttons.push(h("button", { type: "button", class: "button button-small button-danger", onclick: () => remove(entry) }, t("panel.files.delete")));
    } else if (entry.kind !== "other") {
      buttons.push(
        h("button", { type: "button", class: "button button-small", onclick: () => rename(entry) }, t("panel.files.rename")),
        h("button", { type: "button", class: "button button-small", onclick: () => move(entry) }, t("panel.files.move")),
        h("button", { type: "button", class: "button button-small button-danger", onclick: () => remove(entry) }, t("panel.files.delete")),
      );
    }
    return h(
      "tr",
      { class: part ? "file-part" : null, dataset: { path: entry.path, kind: entry.kind } },
      cell(headers[0], name),
      cell(headers[1], size),
      cell(headers[2], h("time", { datetime: new Date(entry.modified_ms).toISOString() }, format.dateTime(entry.modified_ms))),
      cell(headers[3], h("div", { class: "button-row button-row-start" }, buttons)),
    );
  }

  /** Each folder row's total, one folder after another, each within a small time budget. */
  async function sizeFolders(mine) {
    for (const target of [...tbody.querySelectorAll("[data-usage]")]) {
      if (stopped || mine !== generation) return;
      try {
        const usage = await api.get("/api/v1/files/usage", { path: target.dataset.usage, max_seconds: USAGE_SECONDS });
        const said = usage.complete ? N_("panel.files.folder_usage") : N_("panel.files.folder_usage_partial");
        target.textContent = t(said, { size: format.bytes(usage.size), files: usage.files });
        target.classList.remove("muted");
      } catch {
        target.textContent = "–";
      }
    }
  }

  // -- actions -------------------------------------------------------------------------------

  async function edit(entry) {
    if (await editText(ctx, entry.path)) reloadSoon();
  }

  async function newFolder() {
    await ask(ctx, {
      title: t("panel.files.new_folder"),
      label: t("panel.files.folder_name"),
      confirm: t("panel.files.create"),
      submit: async (name) => {
        if (!name || name.includes("/")) throw new Error(t("panel.files.bad_name"));
        await api.post("/api/v1/files/folder", { path: join(folder, name) });
      },
    });
    load().catch(fail);
  }

  async function rename(entry) {
    const done = await ask(ctx, {
      title: t("panel.files.rename_title", { name: entry.name }),
      label: t("panel.files.new_name"),
      value: entry.name,
      confirm: t("panel.files.rename"),
      submit: async (name) => {
        if (!name || name.includes("/")) throw new Error(t("panel.files.bad_name"));
        if (name === entry.name) return;
        await api.post("/api/v1/files/move", { from: entry.path, to: join(parentOf(entry.path), name) });
      },
    });
    if (done) load().catch(fail);
  }

  async function move(entry) {
    const done = await ask(ctx, {
      title: t("panel.files.move_title", { name: entry.name }),
      text: t("panel.files.move_text"),
      label: t("panel.files.target_folder"),
      value: folder,
      confirm: t("panel.files.move"),
      submit: async (target) => {
        const to = target.replace(/^\/+|\/+$/g, "");
        await api.post("/api/v1/files/move", { from: entry.path, to: join(to, entry.name) });
      },
    });
    if (done) load().catch(fail);
  }

  async function remove(entry) {
    const isDir = entry.kind === "dir";
    const done = await ask(ctx, {
      title: t("panel.files.delete_title", { name: entry.name }),
      text: isDir ? t("panel.files.delete_folder_text") : t("panel.files.delete_text"),
      confirm: t("panel.files.delete"),
      danger: true,
      submit: () =>
        isDir
          ? api.del("/api/v1/files", { query: { path: entry.path, recursive: true } })
          : api.del("/api/v1/files/content", { query: { path: entry.path } }),
    });
    if (done) load().catch(fail);
  }

  // -- uploads -------------------------------------------------------------------------------

  async function upload(files) {
    for (const file of files) {
      const path = join(folder, file.name);
      const there = listing?.items.find((entry) => entry.name === file.name);
      let overwrite = false;
      if (there) {
        const replace = await ask(ctx, {
          title: t("panel.files.replace_title", { name: file.name }),
          text: t("panel.files.replace_text"),
          confirm: t("panel.files.replace"),
          danger: true,
          submit: () => true,
        });
        if (!replace) continue;
        overwrite = true;
      }
      uploader.add(file, path, { overwrite });
    }
  }

  /** Continue an upload begun before a reload: the operator picks the same file again. */
  function resumeFrom(session) {
    const input = h("input", { type: "file", hidden: true });
    input.addEventListener("change", () => {
      const file = input.files[0];
      input.remove();
      if (!file) return;
      if (file.size !== session.size || file.name !== session.path.split("/").pop()) {
        return fail(new Error(t("panel.files.resume_mismatch", { name: session.path.split("/").pop(), size: format.bytes(session.size) })));
      }
      uploader.add(file, session.path, { overwrite: session.overwrite, resumeId: session.id });
      renderUploads();
    });
    root.append(input);
    input.click();
  }

  function progress(sent, size) {
    const percent = size ? Math.floor((sent / size) * 100) : 100;
    return [
      h("progress", { class: "upload-bar", max: String(size || 1), value: String(size ? sent : 1), "aria-label": t("panel.files.progress") }),
      h("span", { class: "upload-figures" }, t("panel.files.upload_progress", { sent: format.bytes(sent), size: format.bytes(size), percent })),
    ];
  }

  function jobItem(job) {
    const buttons = [];
    if (job.state === "uploading" || job.state === "queued") buttons.push(h("button", { type: "button", class: "button button-small", onclick: () => uploader.pause(job) }, t("panel.files.pause")));
    if (job.state === "paused" || job.state === "failed") buttons.push(h("button", { type: "button", class: "button button-small", onclick: () => uploader.resume(job) }, t("panel.files.resume")));
    if (!["done", "cancelled", "committing"].includes(job.state)) buttons.push(h("button", { type: "button", class: "button button-small button-danger", onclick: () => uploader.cancel(job).then(() => load().catch(fail)) }, t("panel.common.cancel")));
    const state = job.state === "failed" && job.error ? `${t(STATES.failed)}: ${job.error.message || t("panel.shell.network_error")}` : t(STATES[job.state]);
    return h(
      "li",
      { class: ["upload-item", `upload-${job.state}`], dataset: { path: job.path, state: job.state } },
      h("div", { class: "upload-name mono" }, job.path),
      h("div", { class: "upload-progress" }, progress(job.sent, job.size)),
      h("div", { class: "upload-foot" }, h("span", { class: "upload-state" }, state), h("div", { class: "button-row" }, buttons)),
    );
  }

  function sessionItem(session) {
    return h(
      "li",
      { class: "upload-item upload-unfinished", dataset: { path: session.path, state: "unfinished" } },
      h("div", { class: "upload-name mono" }, session.path),
      h("div", { class: "upload-progress" }, progress(session.offset, session.size)),
      h(
        "div",
        { class: "upload-foot" },
        h("span", { class: "upload-state" }, t("panel.files.unfinished", { expires: format.dateTime(session.expires_ms) })),
        h(
          "div",
          { class: "button-row" },
          h("button", { type: "button", class: "button button-small", onclick: () => resumeFrom(session) }, t("panel.files.resume_pick")),
          h(
            "button",
            {
              type: "button",
              class: "button button-small button-danger",
              onclick: () => act(async () => {
                await api.del(`/api/v1/files/uploads/${enc(session.id)}`);
                await load();
              }),
            },
            t("panel.files.discard"),
          ),
        ),
      ),
    );
  }

  function renderUploads() {
    const jobs = uploader.jobs;
    // A session this tab sends (or sent) is shown as its job, however old the list is.
    const known = new Set(jobs.flatMap((job) => [job.id, job.resumeId]).filter(Boolean));
    // A job still going for a path covers that path's session even before it learnt the
    // session's id (the listing can come back between the session's creation and its answer).
    const going = new Set(jobs.filter((job) => !["done", "cancelled"].includes(job.state)).map((job) => job.path));
    const waiting = unfinished.filter((session) => !known.has(session.id) && !going.has(session.path));
    uploadsList.replaceChildren(...jobs.map(jobItem));
    unfinishedList.replaceChildren(...waiting.map(sessionItem));
    uploadsCard.hidden = !jobs.length && !waiting.length;
    clearButton.hidden = !jobs.some((job) => ["done", "cancelled"].includes(job.state));
  }

  let pendingRender = 0;
  const unlisten = uploader.listen((job) => {
    if (job.state === "done" && parentOf(job.path) === folder) reloadSoon();
    // Progress comes many times a second: draw at most once per frame.
    if (!pendingRender) pendingRender = requestAnimationFrame(() => ((pendingRender = 0), renderUploads()));
  });

  picker.addEventListener("change", () => {
    const files = [...picker.files];
    picker.value = "";
    act(() => upload(files));
  });

  function touches(path) {
    return parentOf(path) === folder || path === folder || (folder && folder.startsWith(`${path}/`));
  }

  const unsubscribe = live.subscribe(
    "files",
    (events) => {
      if (events.some((event) => (event.data.paths || []).some(touches))) reloadSoon();
    },
    // onReset also runs once the stream is ready: right after the first load, skip it.
    { onReset: () => Date.now() - loadedAt > 2000 && reloadSoon() },
  );
  load().catch(fail);
  renderUploads();
  return () => {
    stopped = true;
    clearTimeout(reloadTimer);
    cancelAnimationFrame(pendingRender);
    unlisten();
    unsubscribe();
  };
}
