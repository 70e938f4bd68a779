/* Swagger UI (vendored) on /openapi.json; no online validator badge, nothing from other hosts. */
(function () {
  "use strict";
  const host = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: host.getAttribute("data-openapi-url"),
    domNode: host,
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
})();
