// Ways the driver feeds a tracker's messages to the server: windowed, batched, or paced.
"use strict";

const CHAT = { type: "group", id: "1000", name: "bench" };
const SENDER = { id: "2000", name: "bench" };
const TIME = new Date().toISOString();

function makeEvent(tag, seq) {
  // One inbound chat message as PROTOCOL.md section 4 describes it.
  const text = `bench ${seq}`;
  return {
    platform_message_id: `${tag}-${seq}`,
    chat: CHAT,
    sender: SENDER,
    content: text,
    segments: [{ type: "text", data: { text } }],
    time: TIME,
    locale: "en",
  };
}

function windowed(driver, tracker, tag, window) {
  // Keep at most `window` events without a server ack; send the next as each ack arrives.
  let next = 0;
  let inflight = 0;
  const fill = () => {
    while (inflight < window && next < tracker.n) {
      const i = next;
      next += 1;
      inflight += 1;
      tracker.sent(i, performance.now());
      driver.emit("event", makeEvent(tag, tracker.base + i), (answer) => {
        inflight -= 1;
        tracker.ack(i, answer, performance.now());
        fill();
      });
    }
  };
  fill();
}

function batched(driver, tracker, tag, batchSize, window) {
  // Send `events` batches of `batchSize`, at most `window` batches without a server ack.
  let next = 0;
  let inflight = 0;
  const fill = () => {
    while (inflight < window && next < tracker.n) {
      const start = next;
      const end = Math.min(tracker.n, start + batchSize);
      next = end;
      inflight += 1;
      const events = [];
      for (let i = start; i < end; i += 1) events.push(makeEvent(tag, tracker.base + i));
      const now = performance.now();
      for (let i = start; i < end; i += 1) tracker.sent(i, now);
      driver.emit("events", { events }, (answers) => {
        inflight -= 1;
        const t = performance.now();
        for (let i = start; i < end; i += 1) {
          const answer = Array.isArray(answers) ? answers[i - start] : answers;
          tracker.ack(i, answer, t);
        }
        fill();
      });
    }
  };
  fill();
}

function paced(driver, tracker, tag, rate, maxInflight) {
  // Send at a fixed rate whatever the acks do (open loop), catching up after a late timer.
  const start = performance.now();
  const periodMs = 1000 / rate;
  let next = 0;
  let inflight = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(tracker.n, Math.floor((performance.now() - start) / periodMs) + 1);
      while (next < due) {
        const i = next;
        next += 1;
        if (inflight >= maxInflight) {
          tracker.skip(); // the server fell too far behind; never grow without bound
          continue;
        }
        inflight += 1;
        tracker.sent(i, performance.now());
        driver.emit("event", makeEvent(tag, tracker.base + i), (answer) => {
          inflight -= 1;
          tracker.ack(i, answer, performance.now());
        });
      }
      if (next >= tracker.n) {
        resolve();
        return;
      }
      const wait = start + next * periodMs - performance.now();
      setTimeout(tick, Math.max(0, wait));
    };
    tick();
  });
}

module.exports = { makeEvent, windowed, batched, paced };
