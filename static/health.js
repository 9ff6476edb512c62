// Show the Master's /health answer, refreshed every five seconds.
const field = (id, text) => { document.getElementById(id).textContent = text; };

function duration(seconds) {
  const s = Math.floor(seconds);
  const [d, h, m] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60];
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}

async function refresh() {
  try {
    const response = await fetch("/health", { cache: "no-store" });
    const health = await response.json();
    field("status", health.status);
    field("version", health.version);
    field("uptime", duration(health.uptime_s));
    field("apps", String(health.apps));
  } catch {
    field("status", "unreachable");
  }
}

refresh();
setInterval(refresh, 5000);
