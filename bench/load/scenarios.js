// The benchmark scenarios (issue 6): each returns one JSON-ready result object.
"use strict";

const { startApp, stopApp, startDriver } = require("./clients");
const { Tracker } = require("./tracker");
const { windowed, batched, paced } = require("./pumps");
const { CpuMeter, readProcStatus, round } = require("./stats");

function makeSink() {
  // Apps report receipts here; the sink forwards them to whichever tracker is measuring now.
  return {
    tracker: null,
    receive(seq, t) {
      if (this.tracker !== null) this.tracker.receive(seq, t);
    },
  };
}

function remainingMs(ctx) {
  return Math.max(0, ctx.deadline - performance.now());
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function startApps(ctx, count, { name, batchMax, sink, heartbeatMs = 0 }) {
  const apps = [];
  for (let i = 0; i < count; i += 1) {
    apps.push(
      await startApp(ctx.url, {
        name,
        batchMax,
        token: ctx.appToken,
        deflate: ctx.deflate,
        timeoutMs: ctx.opTimeoutMs,
        sink,
        heartbeatMs,
      }),
    );
  }
  return apps;
}

function openDriver(ctx) {
  return startDriver(ctx.url, {
    token: ctx.token,
    deflate: ctx.deflate,
    timeoutMs: ctx.opTimeoutMs,
  });
}

async function measure(ctx, sink, base, n, expectReceipts, feed) {
  // Run one tracker to completion (or the deadline) and return its figures with CPU use.
  const tracker = new Tracker(base, n, { expectReceipts });
  if (sink) sink.tracker = tracker;
  const meter = new CpuMeter(ctx.serverPid, ctx.clkTck);
  await feed(tracker);
  const completed = await tracker.wait(remainingMs(ctx));
  return { completed, ...tracker.summary(), ...meter.stop() };
}

async function flow(ctx, opts, { batchMax, makeFeed }) {
  // Apps plus driver: a warm-up run that is thrown away, then the measured run.
  const sink = makeSink();
  const apps = await startApps(ctx, opts.apps, { name: "bench", batchMax, sink });
  const driver = await openDriver(ctx);
  const feed = makeFeed(driver);
  try {
    const warmup = Math.min(opts.warmup, opts.messages);
    if (warmup > 0) await measure(ctx, sink, 0, warmup, true, feed);
    const result = await measure(ctx, sink, warmup, opts.messages, true, feed);
    return { apps: opts.apps, warmup, ...result };
  } finally {
    driver.close();
    for (const app of apps) stopApp(app);
  }
}

function saturation(ctx, opts) {
  return flow(ctx, opts, {
    batchMax: 1,
    makeFeed: (driver) => (tracker) => windowed(driver, tracker, ctx.tag, opts.window),
  }).then((result) => ({ window: opts.window, ...result }));
}

function batches(ctx, opts) {
  return flow(ctx, opts, {
    batchMax: opts.batchMax,
    makeFeed: (driver) => (tracker) =>
      batched(driver, tracker, ctx.tag, opts.batchSize, opts.batchWindow),
  }).then((result) => ({
    batch_size: opts.batchSize,
    batch_window: opts.batchWindow,
    app_batch_max: opts.batchMax,
    ...result,
  }));
}

function light(ctx, opts) {
  const messages = Math.round(opts.rate * opts.duration);
  return flow(ctx, { ...opts, messages, warmup: Math.min(opts.warmup, opts.rate) }, {
    batchMax: 1,
    makeFeed: (driver) => (tracker) => paced(driver, tracker, ctx.tag, opts.rate, opts.maxInflight),
  }).then((result) => ({ rate: opts.rate, duration_s: opts.duration, ...result }));
}

async function ingest(ctx, opts) {
  // Driver only: how fast events are acked, which on the Master means committed to SQL.
  const driver = await openDriver(ctx);
  try {
    const feed = (tracker) => windowed(driver, tracker, ctx.tag, opts.window);
    const warmup = Math.min(opts.warmup, opts.messages);
    if (warmup > 0) await measure(ctx, null, 0, warmup, false, feed);
    const result = await measure(ctx, null, warmup, opts.messages, false, feed);
    return { window: opts.window, warmup, ...result };
  } finally {
    driver.close();
  }
}

async function fleet(ctx, opts) {
  // Connect and register many idle apps; report the connect rate and the server's RSS growth.
  const before = ctx.serverPid ? readProcStatus(ctx.serverPid) : { rss_kb: null };
  const sink = makeSink();
  const apps = [];
  let failed = 0;
  let firstError = null;
  let next = 0;
  const meter = new CpuMeter(ctx.serverPid, ctx.clkTck);
  const t0 = performance.now();
  const worker = async () => {
    while (next < opts.apps && remainingMs(ctx) > 0) {
      next += 1;
      try {
        apps.push(
          await startApp(ctx.url, {
            name: "bench-fleet",
            batchMax: 1,
            token: ctx.appToken,
            deflate: ctx.deflate,
            timeoutMs: ctx.opTimeoutMs,
            sink,
            heartbeatMs: opts.heartbeatMs,
          }),
        );
      } catch (err) {
        failed += 1;
        if (firstError === null) firstError = String(err.message || err);
      }
    }
  };
  const workers = [];
  for (let i = 0; i < Math.min(opts.concurrency, opts.apps); i += 1) workers.push(worker());
  await Promise.all(workers);
  const connectS = (performance.now() - t0) / 1000;
  const cpu = meter.stop();
  try {
    await sleep(Math.min(opts.hold * 1000, remainingMs(ctx)));
    const after = ctx.serverPid ? readProcStatus(ctx.serverPid) : { rss_kb: null, hwm_kb: null };
    const grown = before.rss_kb !== null && after.rss_kb !== null ? after.rss_kb - before.rss_kb : null;
    return {
      completed: apps.length === opts.apps,
      apps: opts.apps,
      connected: apps.length,
      failed,
      first_error: firstError,
      concurrency: opts.concurrency,
      connect_s: round(connectS),
      connects_per_s: connectS > 0 ? round(apps.length / connectS, 1) : null,
      rss_before_kb: before.rss_kb,
      rss_after_kb: after.rss_kb,
      rss_hwm_kb: after.hwm_kb,
      rss_per_app_kb: grown !== null && apps.length > 0 ? round(grown / apps.length, 2) : null,
      ...cpu,
    };
  } finally {
    for (const app of apps) stopApp(app);
  }
}

module.exports = { saturation, light, batches, fleet, ingest };
