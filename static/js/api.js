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
 * createApi({onUnauthorized, language}) → {get, post, put, patch, del, putText, send, setCsrf}.
 * `language()` names the panel's language, so that error messages come in it.
 */
export function createApi({ onUnauthorized = () => {}, language = () => null } = {}) {
  let csrf = null;

  function headersFor(method, extra) {
    const headers = { Accept: "application/json", ...extra };
    const lang = language();
    if (lang) headers["Accept-Language"] = lang;
    if (!SAFE.has(method) && csrf) headers["X-CSRF-Token"] = csrf;
    return headers;
  }

  function failure(status, data, retryAfter) {
    const code = data && typeof data.code === "string" ? data.code : `http_${status}`;
    const error = new ApiError(status, code, data && data.message, retryAfter);
    if (status === 401 && code === "unauthorized") {
      csrf = null;
      onUnauthorized(error);
    }
    return error;
  }

  /** `raw` sends a body as it is (text, a Blob), with its own `contentType`. */
  async function request(method, path, { query, body, raw, contentType, headers: extra, signal } = {}) {
    const headers = headersFor(method, extra);
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (raw !== undefined) headers["Content-Type"] = contentType || "application/octet-stream";
    let response;
    try {
      response = await fetch(path + queryString(query), {
        method,
        headers,
        body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
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
    throw failure(response.status, data, Number(response.headers.get("Retry-After")) || null);
  }

  /**
   * Send a Blob (a slice of a File: the browser reads it from disk as it goes, never whole
   * into memory) with upload progress, which fetch cannot report. Resolves with the JSON answer.
   */
  function send(method, path, { query, blob, onProgress, signal } = {}) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, path + queryString(query));
      for (const [name, value] of Object.entries(headersFor(method, { "Content-Type": "application/octet-stream" }))) {
        xhr.setRequestHeader(name, value);
      }
      xhr.responseType = "text";
      if (onProgress) xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
      const aborted = () => xhr.abort();
      signal?.addEventListener("abort", aborted, { once: true });
      const done = () => signal?.removeEventListener("abort", aborted);
      xhr.addEventListener("load", () => {
        done();
        let data = null;
        try {
          data = JSON.parse(xhr.responseText);
        } catch {
          /* not JSON: answered as http_<status> */
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data);
        else reject(failure(xhr.status, data, Number(xhr.getResponseHeader("Retry-After")) || null));
      });
      xhr.addEventListener("error", () => (done(), reject(new ApiError(0, "network_error", ""))));
      xhr.addEventListener("abort", () => (done(), reject(new DOMException("aborted", "AbortError"))));
      // An XHR never sent fires no abort event: say so here.
      if (signal?.aborted) return (done(), reject(new DOMException("aborted", "AbortError")));
      xhr.send(blob);
    });
  }

  return {
    get: (path, query, options) => request("GET", path, { ...options, query }),
    post: (path, body, options) => request("POST", path, { ...options, body }),
    put: (path, body, options) => request("PUT", path, { ...options, body }),
    patch: (path, body, options) => request("PATCH", path, { ...options, body }),
    del: (path, options) => request("DELETE", path, options),
    /** putText(path, query, text, {headers}) → PUT a raw UTF-8 body. */
    putText: (path, query, text, options) => request("PUT", path, { ...options, query, raw: text, contentType: "text/plain; charset=utf-8" }),
    send,
    setCsrf(token) {
      csrf = token || null;
    },
  };
}
