// Resumable uploads from the browser: a File goes in chunks of the size the Master asks for
// (POST /api/v1/files/uploads, then one PUT per chunk at its offset, then a commit). Each chunk
// is a slice of the File, which the browser reads from disk as it sends: memory holds no more
// than one chunk, whatever the file's size. A lost connection is retried from the offset the
// Master reports; a reload, or another day, resumes the same file where it stopped.

const STORE = "kenkogo.uploads"; // fingerprint of a file → the id of its unfinished upload
const RETRIES = 6;
const BUSY_WAIT_MS = 400;

function remembered() {
  try {
    return JSON.parse(localStorage.getItem(STORE) || "{}") || {};
  } catch {
    return {};
  }
}

function remember(key, id) {
  const all = remembered();
  if (id) all[key] = id;
  else delete all[key];
  try {
    localStorage.setItem(STORE, JSON.stringify(all));
  } catch {
    /* no storage: a reload cannot resume, the upload itself still works */
  }
}

/** What identifies "the same file" for a resume: its target, size and time of change. */
export function fingerprint(path, file) {
  return `${path}|${file.size}|${file.lastModified}`;
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const enc = encodeURIComponent;

/**
 * createUploader(api) → {add(file, path, {overwrite, resumeId}), pause(job), resume(job),
 * cancel(job), listen(fn) → unlisten, jobs}. Files go one at a time; listeners hear each
 * change of a job. The uploader outlives the page that shows it: moving to another folder or
 * page does not stop an upload.
 */
export function createUploader(api) {
  const jobs = [];
  const listeners = new Set();
  let running = null;

  function changed(job) {
    for (const listener of listeners) listener(job);
  }

  function add(file, path, { overwrite = false, resumeId = null } = {}) {
    const job = { file, path, overwrite, resumeId, id: null, sent: 0, size: file.size, state: "queued", error: null, entry: null, controller: null };
    jobs.push(job);
    changed(job);
    next();
    return job;
  }

  function next() {
    if (running) return;
    const job = jobs.find((item) => item.state === "queued");
    if (!job) return;
    running = job;
    run(job)
      .catch((error) => {
        if (error.name === "AbortError") return; // paused or cancelled: said already
        job.state = "failed";
        job.error = error;
      })
      .finally(() => {
        running = null;
        changed(job);
        next();
      });
  }

  async function session(job) {
    const key = fingerprint(job.path, job.file);
    const known = job.id || job.resumeId || remembered()[key];
    if (known) {
      try {
        const found = await api.get(`/api/v1/files/uploads/${enc(known)}`);
        if (found.path === job.path && found.size === job.size) return found;
      } catch (error) {
        if (error.status !== 404) throw error;
      }
      remember(key, null); // expired, or the Master restarted: begin again
    }
    const opened = await api.post("/api/v1/files/uploads", { path: job.path, size: job.size, overwrite: job.overwrite });
    remember(key, opened.id);
    return opened;
  }

  async function run(job) {
    job.state = "uploading";
    job.error = null;
    job.controller = new AbortController();
    const { signal } = job.controller;
    changed(job);
    let state = await session(job);
    job.id = state.id;
    job.sent = state.offset;
    job.resumedAt = job.resumedAt ?? state.offset;
    changed(job);
    let failures = 0;
    while (state.offset < state.size) {
      if (signal.aborted) throw new DOMException("aborted", "AbortError");
      const start = state.offset;
      const blob = job.file.slice(start, Math.min(start + state.chunk_size, state.size));
      try {
        state = await api.send("PUT", `/api/v1/files/uploads/${enc(job.id)}`, {
          query: { offset: start },
          blob,
          signal,
          onProgress: (loaded) => {
            job.sent = start + Math.min(loaded, blob.size);
            changed(job);
          },
        });
        failures = 0;
      } catch (error) {
        if (error.name === "AbortError") throw error;
        const retry = error.status === 0 || error.code === "upload_busy" || error.code === "upload_offset_mismatch" || error.status >= 502;
        failures += 1;
        if (!retry || failures > RETRIES) throw error;
        await wait(error.code === "upload_offset_mismatch" ? 0 : BUSY_WAIT_MS * failures);
        if (signal.aborted) throw new DOMException("aborted", "AbortError");
        state = await api.get(`/api/v1/files/uploads/${enc(job.id)}`); // where to go on from
      }
      job.sent = state.offset;
      changed(job);
    }
    if (signal.aborted) throw new DOMException("aborted", "AbortError");
    job.state = "committing";
    changed(job);
    job.entry = await api.post(`/api/v1/files/uploads/${enc(job.id)}/commit`);
    remember(fingerprint(job.path, job.file), null);
    job.state = "done";
  }

  return {
    jobs,
    add,
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Forget finished jobs (done, cancelled), so the list shows what still matters. */
    clear() {
      for (let i = jobs.length - 1; i >= 0; i -= 1) if (["done", "cancelled"].includes(jobs[i].state)) jobs.splice(i, 1);
    },
    /** Stop sending: the chunk on its way is dropped by the Master, the rest stays. */
    pause(job) {
      if (job.state === "queued") job.state = "paused";
      else if (job.state === "uploading") {
        job.state = "paused";
        job.controller?.abort();
      }
      changed(job);
    },
    resume(job) {
      if (job.state !== "paused" && job.state !== "failed") return;
      job.state = "queued";
      changed(job);
      next();
    },
    async cancel(job) {
      const was = job.state;
      job.state = "cancelled";
      job.controller?.abort();
      changed(job);
      remember(fingerprint(job.path, job.file), null);
      if (job.id && was !== "done") {
        await api.del(`/api/v1/files/uploads/${enc(job.id)}`).catch(() => {});
      }
    },
  };
}
