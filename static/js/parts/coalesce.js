// Redraw a page at most a few times a second, whatever the rate of its events: the events only
// mark what changed, and one redraw draws the latest state. A hidden tab draws nothing at all.

/**
 * coalesce(draw, everyMs) → schedule(); schedule.now() draws at once (after an operator's own
 * action, which must answer without a wait); schedule.cancel() forgets a pending draw.
 */
export function coalesce(draw, everyMs = 250) {
  let timer = 0;
  let last = -Infinity;

  function run() {
    timer = 0;
    if (document.hidden) {
      document.addEventListener("visibilitychange", schedule, { once: true });
      return;
    }
    last = performance.now();
    draw();
  }

  function schedule() {
    if (timer) return;
    timer = setTimeout(run, Math.max(0, last + everyMs - performance.now()));
  }

  schedule.now = () => {
    clearTimeout(timer);
    timer = 0;
    last = performance.now();
    draw();
  };
  schedule.cancel = () => {
    clearTimeout(timer);
    timer = 0;
    document.removeEventListener("visibilitychange", schedule);
  };
  return schedule;
}
