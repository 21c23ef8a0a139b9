// Starts the viewer on this server's document. A file of its own: the Content-Security-Policy
// allows no inline script.
"use strict";
window.SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#api",
  deepLinking: true,
  // The validator badge would send the document to another site.
  validatorUrl: null,
  // Calls made with "Try it out" go to this server; the back office's cookie is not sent
  // cross-site anyway, and tokens are typed into "Authorize".
  withCredentials: false,
  tryItOutEnabled: false,
  defaultModelsExpandDepth: 0,
  docExpansion: "list",
});
