// The one place that calls fetch: JSON in and out, the session's CSRF token on every change,
// every failure as one ApiError {status, code, message}, and 401 handed to the app (sign-in).

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

const SAFE = new Set(["GET", "HEAD"]);

function queryString(query) {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * createApi({onUnauthorized, language}) → {get, post, put, patch, del, setCsrf}.
 * `language()` names the panel's language, so that error messages come in it.
 */
export function createApi({ onUnauthorized = () => {}, language = () => null } = {}) {
  let csrf = null;

  async function request(method, path, { query, body, signal } = {}) {
    const headers = { Accept: "application/json" };
    const lang = language();
    if (lang) headers["Accept-Language"] = lang;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (!SAFE.has(method) && csrf) headers["X-CSRF-Token"] = csrf;
    let response;
    try {
      response = await fetch(path + queryString(query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
        signal,
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, "network_error", "");
    }
    const data = await response.json().catch(() => null);
    if (response.ok) return data;
    const code = data && typeof data.code === "string" ? data.code : `http_${response.status}`;
    const retryAfter = Number(response.headers.get("Retry-After")) || null;
    const error = new ApiError(response.status, code, data && data.message, retryAfter);
    if (response.status === 401 && code === "unauthorized") {
      csrf = null;
      onUnauthorized(error);
    }
    throw error;
  }

  return {
    get: (path, query, options) => request("GET", path, { ...options, query }),
    post: (path, body, options) => request("POST", path, { ...options, body }),
    put: (path, body, options) => request("PUT", path, { ...options, body }),
    patch: (path, body, options) => request("PATCH", path, { ...options, body }),
    del: (path, options) => request("DELETE", path, options),
    setCsrf(token) {
      csrf = token || null;
    },
  };
}
