// Swagger UI for /api/openapi.json, from the vendored bundle (no network needed).
/* global SwaggerUIBundle */
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: false,
  withCredentials: true,
});
