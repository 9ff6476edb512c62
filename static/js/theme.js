// Light and dark themes as CSS custom properties: the system's choice unless the operator
// picks one (kept in localStorage). <html data-theme="light|dark"> selects the palette.

const STORAGE_KEY = "kenkogo.theme";
export const THEMES = ["system", "light", "dark"];

export function createTheme() {
  const media = window.matchMedia("(prefers-color-scheme: dark)");
  const listeners = new Set();
  let choice = "system";
  try {
    choice = localStorage.getItem(STORAGE_KEY) || "system";
  } catch {
    /* keep the system's */
  }
  if (!THEMES.includes(choice)) choice = "system";

  function applied() {
    return choice === "system" ? (media.matches ? "dark" : "light") : choice;
  }

  function apply() {
    const theme = applied();
    document.documentElement.dataset.theme = theme;
    for (const listener of listeners) listener(theme);
  }

  media.addEventListener("change", () => {
    if (choice === "system") apply();
  });
  apply();

  return {
    get choice() {
      return choice;
    },
    get applied() {
      return applied();
    },
    choose(next) {
      choice = THEMES.includes(next) ? next : "system";
      try {
        localStorage.setItem(STORAGE_KEY, choice);
      } catch {
        /* lasts this page only */
      }
      apply();
    },
    /** onChange(fn) → unsubscribe; charts redraw with the new palette. */
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
