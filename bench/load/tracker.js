// One measured batch of messages: when each was sent, acked by the server and received by an app.
"use strict";

const { percentiles, round } = require("./stats");

class Tracker {
  // Messages carry sequence numbers base .. base+n-1; anything outside is another run's straggler.
  constructor(base, n, { expectReceipts }) {
    this.base = base;
    this.n = n;
    this.expectReceipts = expectReceipts;
    this.sendT = new Float64Array(n).fill(Number.NaN);
    this.ackT = new Float64Array(n).fill(Number.NaN);
    this.recvT = new Float64Array(n).fill(Number.NaN);
    this.acked = 0;
    this.ackErrors = 0;
    this.firstError = null;
    this.received = 0;
    this.duplicates = 0;
    this.skipped = 0;
    this.waiters = [];
  }

  sent(i, t) {
    this.sendT[i] = t;
  }

  ack(i, answer, t) {
    this.ackT[i] = t;
    this.acked += 1;
    if (!answer || answer.success !== true) {
      this.ackErrors += 1;
      if (this.firstError === null) this.firstError = answer === undefined ? null : answer;
    }
    this.check();
  }

  skip() {
    // A message the driver never sent because the server fell too far behind.
    this.skipped += 1;
    this.check();
  }

  receive(seq, t) {
    const i = seq - this.base;
    if (!(i >= 0 && i < this.n)) return;
    if (!Number.isNaN(this.recvT[i])) {
      this.duplicates += 1;
      return;
    }
    this.recvT[i] = t;
    this.received += 1;
    this.check();
  }

  complete() {
    const expected = this.n - this.skipped;
    return this.acked === expected && (!this.expectReceipts || this.received === expected);
  }

  check() {
    if (!this.complete()) return;
    for (const resolve of this.waiters.splice(0)) resolve(true);
  }

  wait(timeoutMs) {
    // Resolve true once complete, false when the time runs out first.
    if (this.complete()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push((value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  }

  summary() {
    // Throughput counts completed app receipts (or server acks when no app takes part).
    const ends = this.expectReceipts ? this.recvT : this.ackT;
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    const latency = [];
    const ackLatency = [];
    for (let i = 0; i < this.n; i += 1) {
      const s = this.sendT[i];
      if (Number.isNaN(s)) continue;
      if (s < first) first = s;
      if (!Number.isNaN(ends[i]) && ends[i] > last) last = ends[i];
      if (!Number.isNaN(this.recvT[i])) latency.push(this.recvT[i] - s);
      if (!Number.isNaN(this.ackT[i])) ackLatency.push(this.ackT[i] - s);
    }
    const done = this.expectReceipts ? this.received : this.acked - this.ackErrors;
    const elapsedS = last > first ? (last - first) / 1000 : null;
    return {
      messages: this.n,
      acked: this.acked,
      ack_errors: this.ackErrors,
      first_error: this.firstError,
      received: this.received,
      duplicates: this.duplicates,
      skipped: this.skipped,
      elapsed_s: elapsedS === null ? null : round(elapsedS),
      msgs_per_s: elapsedS ? round(done / elapsedS, 1) : null,
      latency_ms: percentiles(latency),
      ack_latency_ms: percentiles(ackLatency),
    };
  }
}

module.exports = { Tracker };
