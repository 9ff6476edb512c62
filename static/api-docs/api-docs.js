// Swagger UI over /api/v1/openapi.json. "Try it out" goes through the browser's session (the
// cookie rides along by itself); a request that changes something also needs the session's
// CSRF token, which the request interceptor adds. A bearer token given with "Authorize" wins.
/* global SwaggerUIBundle */
"use strict";

let csrfToken = null;

async function whoAmI() {
  const note = document.getElementById("api-docs-session");
  try {
    const response = await fetch("/api/v1/auth/me", { credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    const me = await response.json();
    csrfToken = me.csrf_token || null;
    note.textContent = `signed in as ${me.name}: "Try it out" uses this session`;
  } catch {
    note.textContent = "not signed in: sign in to the panel, or use Authorize with an API token";
  }
}

whoAmI();
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: false,
  requestInterceptor(request) {
    const method = (request.method || "GET").toUpperCase();
    if (csrfToken && !["GET", "HEAD", "OPTIONS"].includes(method)) {
      request.headers["X-CSRF-Token"] = csrfToken;
    }
    request.credentials = "same-origin";
    return request;
  },
});
