#!/usr/bin/env node
// Load generator for the KenkoGo benchmark: runs one scenario against one server, prints JSON.
//
//   node bench/load/load.js --url http://127.0.0.1:PORT --scenario saturation [options]
//
// Scenarios: saturation, light, batches, fleet, ingest (see bench/README.md). Every wait is
// bounded by --timeout; the process always exits by itself.
"use strict";

const { parseArgs } = require("node:util");
const scenarios = require("./scenarios");

const DEFAULTS = {
  saturation: { apps: 4, messages: 20000, window: 100, warmup: 1000 },
  light: { apps: 4, rate: 200, duration: 10, warmup: 200, maxInflight: 2000 },
  batches: { apps: 4, messages: 20000, batchSize: 100, batchWindow: 4, batchMax: 100, warmup: 1000 },
  fleet: { apps: 10000, concurrency: 100, hold: 5, heartbeatMs: 30000 },
  ingest: { messages: 20000, window: 500, warmup: 1000 },
};

const NUMERIC = {
  apps: "apps",
  messages: "messages",
  window: "window",
  warmup: "warmup",
  rate: "rate",
  duration: "duration",
  "max-inflight": "maxInflight",
  "batch-size": "batchSize",
  "batch-window": "batchWindow",
  "batch-max": "batchMax",
  concurrency: "concurrency",
  hold: "hold",
  heartbeat: "heartbeatS",
};

function parse(argv) {
  const options = {
    url: { type: "string" },
    scenario: { type: "string" },
    token: { type: "string", default: "bench" },
    "app-token": { type: "string" },
    "server-pid": { type: "string" },
    "clk-tck": { type: "string", default: "100" },
    timeout: { type: "string", default: "120" },
    "op-timeout": { type: "string", default: "10" },
    "no-deflate": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  };
  for (const name of Object.keys(NUMERIC)) options[name] = { type: "string" };
  const { values } = parseArgs({ args: argv, options, strict: true });
  return values;
}

function number(text, name) {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number >= 0`);
  return value;
}

function scenarioOptions(name, values) {
  const opts = { ...DEFAULTS[name] };
  for (const [flag, key] of Object.entries(NUMERIC)) {
    if (values[flag] === undefined) continue;
    if (key === "heartbeatS") opts.heartbeatMs = number(values[flag], flag) * 1000;
    else opts[key] = number(values[flag], flag);
  }
  return opts;
}

function emit(result, code) {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(code));
}

async function main() {
  const values = parse(process.argv.slice(2));
  if (values.help || !values.url || !values.scenario) {
    process.stderr.write(
      "usage: load.js --url URL --scenario saturation|light|batches|fleet|ingest [options]\n",
    );
    process.exit(values.help ? 0 : 2);
  }
  const name = values.scenario;
  if (!(name in DEFAULTS)) throw new Error(`unknown scenario ${name}`);
  const timeoutS = number(values.timeout, "timeout");
  const opts = scenarioOptions(name, values);
  const ctx = {
    url: values.url,
    token: values.token,
    appToken: values["app-token"],
    deflate: !values["no-deflate"],
    serverPid: values["server-pid"] ? Number(values["server-pid"]) : null,
    clkTck: number(values["clk-tck"], "clk-tck") || 100,
    opTimeoutMs: number(values["op-timeout"], "op-timeout") * 1000,
    // Leave a little time after the deadline to close sockets and print the result.
    deadline: performance.now() + Math.max(1, timeoutS - 2) * 1000,
    tag: `${process.pid}-${Date.now().toString(36)}`,
  };
  const hardStop = setTimeout(() => {
    emit({ scenario: name, ok: false, error: `load process timed out after ${timeoutS} s` }, 3);
  }, timeoutS * 1000);
  const result = await scenarios[name](ctx, opts);
  clearTimeout(hardStop);
  const ok = result.completed === true && !result.ack_errors && !result.failed;
  emit({ scenario: name, ok, node: process.version, options: opts, ...result }, ok ? 0 : 1);
}

main().catch((err) => {
  emit({ scenario: null, ok: false, error: String((err && err.message) || err) }, 1);
});
