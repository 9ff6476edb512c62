// The panel's texts, served by the Master from its catalogs with operators' overrides applied.
// The language follows the browser (Accept-Language) until the operator picks one, which is
// kept in localStorage.

const STORAGE_KEY = "kenkogo.locale";
const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Mark a text key whose name is computed, so that extraction still finds it. */
export const N_ = (key) => key;

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage refused (private mode in some in-app browsers)
  }
}

export function createI18n(fetchTexts) {
  let texts = {};
  let locale = "en";
  let locales = [];
  let numberFormat = new Intl.NumberFormat("en");

  /** BCP 47 form of a locale, for Intl and <html lang>: zh_Hans → zh-Hans. */
  const tag = (value) => value.replaceAll("_", "-");

  function format(value) {
    return typeof value === "number" ? numberFormat.format(value) : String(value);
  }

  /** t("panel.apps.count", {count: 3}) → the text, placeholders filled. */
  function t(key, params = {}) {
    const text = texts[key];
    if (text === undefined) return key;
    return text.replace(PLACEHOLDER, (match, name) => {
      if (match === "{{") return "{";
      if (match === "}}") return "}";
      return name in params ? format(params[name]) : match;
    });
  }

  return {
    t,
    /** Load the texts: "login" (public, the sign-in page's) or "all" (needs a session). */
    async load(scope) {
      const chosen = stored();
      const data = await fetchTexts(scope, chosen);
      texts = data.texts;
      locale = data.locale;
      locales = data.locales;
      numberFormat = new Intl.NumberFormat(tag(locale));
      document.documentElement.lang = tag(locale);
    },
    choose(next) {
      try {
        localStorage.setItem(STORAGE_KEY, next);
      } catch {
        /* the choice lasts this page only */
      }
    },
    get locale() {
      return locale;
    },
    get tag() {
      return tag(locale);
    },
    get locales() {
      return locales;
    },
    /** The locale asked for in requests once texts are loaded (error messages follow it). */
    get chosen() {
      return stored();
    },
  };
}
