// Figures the load process reports: latency percentiles and CPU use of itself and the server.
"use strict";

const fs = require("node:fs");

function percentiles(values) {
  // Nearest-rank percentiles over a list of milliseconds; null when there is nothing to rank.
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { p50: null, p99: null, max: null, mean: null, count: 0 };
  const rank = (q) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50: round(rank(0.5)),
    p99: round(rank(0.99)),
    max: round(sorted[n - 1]),
    mean: round(sum / n),
    count: n,
  };
}

function round(value, digits = 3) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function readProcStatus(pid) {
  // VmRSS and VmHWM of a process in KiB, or nulls when /proc cannot tell.
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name) => {
      const match = text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"));
      return match ? Number(match[1]) : null;
    };
    return { rss_kb: field("VmRSS"), hwm_kb: field("VmHWM") };
  } catch {
    return { rss_kb: null, hwm_kb: null };
  }
}

function readProcCpuSeconds(pid, clkTck) {
  // User + system CPU seconds of the whole process (all its threads), or null.
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / clkTck;
  } catch {
    return null;
  }
}

class CpuMeter {
  // CPU use of this process and, when its pid is known, of the server, over one interval.
  constructor(serverPid, clkTck) {
    this.serverPid = serverPid;
    this.clkTck = clkTck;
    this.wall0 = performance.now();
    this.self0 = process.cpuUsage();
    this.server0 = serverPid ? readProcCpuSeconds(serverPid, clkTck) : null;
  }

  stop() {
    const wallMs = performance.now() - this.wall0;
    const self = process.cpuUsage(this.self0);
    const result = {
      load_cpu_pct: round(((self.user + self.system) / 1000 / wallMs) * 100, 1),
      server_cpu_pct: null,
    };
    if (this.server0 !== null) {
      const server1 = readProcCpuSeconds(this.serverPid, this.clkTck);
      if (server1 !== null) {
        result.server_cpu_pct = round(((server1 - this.server0) * 1000 / wallMs) * 100, 1);
      }
    }
    return result;
  }
}

module.exports = { percentiles, round, readProcStatus, CpuMeter };
