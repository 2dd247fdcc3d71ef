// The API docs page: starts Swagger UI from a file, not an inline script (the site's
// Content-Security-Policy runs no inline script). The page's data- attributes carry
// the schema's address, Swagger UI's settings and the CSRF token for "Try it out".
(function () {
  "use strict";
  const root = document.getElementById("swagger-ui");
  const data = root.dataset;
  const settings = JSON.parse(data.settings || "{}");

  function requestInterceptor(request) {
    // The API authenticates with the session: a change needs Django's CSRF header.
    if (!["GET", "HEAD", undefined].includes(request.method)) {
      request.headers[data.csrfHeader] = data.csrfToken;
    }
    return request;
  }

  window.ui = SwaggerUIBundle(Object.assign({
    url: data.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: requestInterceptor,
  }, settings));
})();
