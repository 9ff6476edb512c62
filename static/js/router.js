// A hash router: #/apps/abc → the route "/apps/:id" with {id: "abc"}. Hash routes need no
// server rules, and the page at / is the only HTML the Master serves.

function compile(path) {
  const names = [];
  const pattern = path.replace(/:([a-z_]+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  return { regex: new RegExp(`^${pattern}$`), names };
}

export function createRouter(routes, onChange) {
  const compiled = routes.map((route) => ({ ...route, ...compile(route.path) }));

  function current() {
    const hash = location.hash.replace(/^#/, "") || "/";
    const [path, search = ""] = hash.split("?");
    for (const route of compiled) {
      const match = route.regex.exec(path);
      if (match) {
        const params = Object.fromEntries(
          route.names.map((name, i) => [name, decodeURIComponent(match[i + 1])]),
        );
        return { route, params, path, query: new URLSearchParams(search) };
      }
    }
    return { route: null, params: {}, path, query: new URLSearchParams(search) };
  }

  window.addEventListener("hashchange", () => onChange(current()));

  return {
    current,
    start: () => onChange(current()),
    /** The href of a path: router.href("/apps/" + id). */
    href: (path) => `#${path}`,
    go(path, { replace = false } = {}) {
      const hash = `#${path}`;
      if (location.hash === hash) return onChange(current());
      if (replace) {
        history.replaceState(null, "", hash);
        onChange(current());
      } else {
        location.hash = hash;
      }
    },
  };
}
