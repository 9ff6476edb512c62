// Numbers, sizes, durations and times in the panel's language (Intl; no library).

export function createFormat(i18n) {
  const cache = new Map();
  function nf(options) {
    const key = `${i18n.tag}|${JSON.stringify(options)}`;
    if (!cache.has(key)) cache.set(key, new Intl.NumberFormat(i18n.tag, options));
    return cache.get(key);
  }
  function df(options) {
    const key = `${i18n.tag}|d|${JSON.stringify(options)}`;
    if (!cache.has(key)) cache.set(key, new Intl.DateTimeFormat(i18n.tag, options));
    return cache.get(key);
  }
  const units = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"];

  return {
    number: (n, digits = 0) => nf({ maximumFractionDigits: digits }).format(n ?? 0),
    compact: (n) => nf({ notation: "compact", maximumFractionDigits: 1 }).format(n ?? 0),
    percent: (n, digits = 0) =>
      nf({ style: "percent", maximumFractionDigits: digits }).format((n ?? 0) / 100),
    bytes(n) {
      let value = n ?? 0;
      let unit = 0;
      while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit += 1;
      }
      const digits = value < 10 && unit > 0 ? 1 : 0;
      return nf({ style: "unit", unit: units[unit], unitDisplay: "short", maximumFractionDigits: digits }).format(value);
    },
    rate: (n) => nf({ maximumFractionDigits: n < 10 ? 1 : 0 }).format(n ?? 0),
    time: (ms) => df({ hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(ms),
    hour: (ms) => df({ month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }).format(ms),
    day: (ms) => df({ month: "short", day: "numeric", weekday: "short" }).format(ms),
    dateTime: (ms) => df({ dateStyle: "medium", timeStyle: "medium" }).format(ms),
    /** A duration in seconds as "3 h 4 min" style units. */
    duration(seconds) {
      const s = Math.max(0, Math.floor(seconds ?? 0));
      const parts = [
        [Math.floor(s / 86400), "day"],
        [Math.floor(s / 3600) % 24, "hour"],
        [Math.floor(s / 60) % 60, "minute"],
        [s % 60, "second"],
      ].filter(([value]) => value > 0);
      if (!parts.length) parts.push([0, "second"]);
      return parts
        .slice(0, 2)
        .map(([value, unit]) => nf({ style: "unit", unit, unitDisplay: "narrow" }).format(value))
        .join(" ");
    },
  };
}
