// Start Swagger UI (vendored, see static/swagger/VENDORED.txt) on the API docs page. The page
// carries no inline script, so the site's Content-Security-Policy holds here too.
const container = document.getElementById("swagger-container");
const { schemaUrl, csrfCookie, csrfHeader } = container.dataset;

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

window.ui = window.SwaggerUIBundle({
  url: schemaUrl,
  dom_id: "#swagger-container",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null, // no call to validator.swagger.io: the page stays on this site
  presets: [window.SwaggerUIBundle.presets.apis],
  requestInterceptor: (request) => {
    // "Try it out" from a signed-in browser: unsafe methods need the CSRF token.
    const token = csrfCookie ? cookie(csrfCookie) : undefined;
    if (token !== undefined && csrfHeader) request.headers[csrfHeader] = token;
    return request;
  },
});
