// The one live channel of a tab: a single EventSource on /api/v1/events for every page.
//
// Pages subscribe to topics (`app`, `system.sample`, …) and get events in batches, at most once
// per animation frame. While the tab is hidden nothing is handed to the pages (nothing is drawn)
// and, after a short grace, the stream is closed; when it shows again, or after a network blip,
// it reopens from the last event id and the Master sends what was missed — or a `reset`, after
// which subscribers reload what they show (onReset).

const HIDDEN_GRACE_MS = 5000; // a quick look at another tab keeps the stream
const MAX_BACKOFF_MS = 30000;
// Events held for a hidden tab during its grace; past this the pages reload instead when shown.
const MAX_HELD = 5000;

export function createLive({ url = "/api/v1/events", onSessionEnded = () => {}, checkSession }) {
  const subscriptions = new Set();
  const statusListeners = new Set();
  let source = null;
  let openTopics = "";
  let openQuery = "";
  let lastId = null;
  let pending = [];
  let overflowed = false; // events were dropped while hidden: reload everything when shown
  let frame = 0;
  let retryTimer = 0;
  let hideTimer = 0;
  let backoff = 1000;
  let reopenQueued = false;
  let status = "idle";

  function setStatus(next) {
    if (next === status) return;
    status = next;
    for (const listener of statusListeners) listener(status);
  }

  function wantedTopics() {
    const topics = new Set();
    for (const sub of subscriptions) for (const topic of sub.topics) topics.add(topic);
    return [...topics].sort().join(",");
  }

  // Filters the Master applies to the `log` topics (level, logger, q, app_id…), from the
  // subscribers that give them; part of what the open stream is compared against.
  function wantedQuery() {
    const query = {};
    for (const sub of subscriptions) Object.assign(query, sub.query);
    const params = new URLSearchParams();
    for (const key of Object.keys(query).sort()) {
      if (query[key] !== undefined && query[key] !== null && query[key] !== "") params.set(key, String(query[key]));
    }
    return params.toString();
  }

  function matches(sub, topic) {
    return sub.topics.some((want) => topic === want || topic.startsWith(`${want}.`));
  }

  function flush() {
    frame = 0;
    const batch = pending;
    pending = [];
    for (const sub of subscriptions) {
      const mine = batch.filter((event) => matches(sub, event.topic));
      if (mine.length) {
        try {
          sub.handler(mine);
        } catch (error) {
          console.error(error); // one page's bug must not stop the others' updates
        }
      }
    }
  }

  function enqueue(event) {
    if (overflowed) return;
    pending.push(event);
    if (pending.length > MAX_HELD) {
      pending = [];
      overflowed = true;
      return;
    }
    // A hidden tab holds its events: some browsers still run animation frames in it.
    if (!frame && !document.hidden) frame = requestAnimationFrame(flush);
  }

  function close() {
    if (source) {
      source.close();
      source = null;
    }
    openTopics = "";
  }

  function resetAll() {
    pending = [];
    overflowed = false;
    for (const sub of subscriptions) sub.onReset?.();
  }

  function open() {
    clearTimeout(retryTimer);
    close();
    const topics = wantedTopics();
    if (!topics) return setStatus("idle");
    if (document.hidden) return setStatus("paused");
    const filters = wantedQuery();
    const params = new URLSearchParams(filters);
    params.set("topics", topics);
    params.set("typed", "false");
    if (lastId) params.set("last_event_id", lastId);
    openTopics = topics;
    openQuery = filters;
    setStatus("connecting");
    const es = new EventSource(`${url}?${params}`);
    source = es;
    es.onmessage = (message) => {
      if (message.lastEventId) lastId = message.lastEventId;
      try {
        enqueue(JSON.parse(message.data));
      } catch (error) {
        console.error("unreadable event", error);
      }
    };
    es.addEventListener("ready", (message) => {
      lastId = message.lastEventId || lastId;
      backoff = 1000;
      setStatus("live");
      // A page loads what it shows while its stream opens: whatever changed in between came
      // before `ready` and is in no event, so a new subscriber loads once more from here on.
      for (const sub of subscriptions) {
        if (!sub.live && sub.topics.every((topic) => openTopics.split(",").includes(topic))) {
          sub.live = true;
          sub.onReset?.();
        }
      }
    });
    es.addEventListener("reset", resetAll);
    es.addEventListener("dropped", (message) => {
      let reason = "";
      try {
        reason = JSON.parse(message.data).reason;
      } catch {
        /* keep "" */
      }
      close();
      if (reason === "session_ended") onSessionEnded();
      else retryLater();
    });
    es.onerror = () => {
      if (es !== source) return;
      // While CONNECTING the browser retries by itself, sending Last-Event-ID.
      if (es.readyState === EventSource.CLOSED) {
        close();
        retryLater();
      } else {
        setStatus("connecting");
      }
    };
  }

  function retryLater() {
    setStatus("connecting");
    clearTimeout(retryTimer);
    retryTimer = setTimeout(async () => {
      // A refused stream says nothing of why: the session may have ended.
      if (checkSession && !(await checkSession())) return;
      open();
    }, backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }

  function reopenSoon() {
    if (reopenQueued) return;
    reopenQueued = true;
    queueMicrotask(() => {
      reopenQueued = false;
      const topics = wantedTopics();
      if (topics !== openTopics || wantedQuery() !== openQuery || !source) open();
    });
  }

  document.addEventListener("visibilitychange", () => {
    clearTimeout(hideTimer);
    if (document.hidden) {
      cancelAnimationFrame(frame);
      frame = 0;
      hideTimer = setTimeout(() => {
        close();
        setStatus("paused");
      }, HIDDEN_GRACE_MS);
    } else {
      if (overflowed) resetAll();
      else if (pending.length && !frame) frame = requestAnimationFrame(flush);
      if (!source && subscriptions.size) open(); // from the last event id: what happened meanwhile comes first
    }
  });

  return {
    /** subscribe(["app", "system.sample"], events => …, {onReset, query}) → unsubscribe; onReset
     * also runs once the stream is open for the new subscriber, to load what it shows again.
     * `query` adds the Master's log filters ({level, logger, q, app_id, …}) to the stream. */
    subscribe(topics, handler, { onReset, query } = {}) {
      const sub = { topics: [].concat(topics), handler, onReset, query: query || {}, live: false };
      subscriptions.add(sub);
      reopenSoon();
      return () => {
        subscriptions.delete(sub);
        reopenSoon();
      };
    },
    /** onStatus(fn) → unsubscribe; fn gets "idle" | "connecting" | "live" | "paused". */
    onStatus(listener) {
      statusListeners.add(listener);
      listener(status);
      return () => statusListeners.delete(listener);
    },
    stop() {
      subscriptions.clear();
      clearTimeout(retryTimer);
      close();
      setStatus("idle");
    },
  };
}
