// Starts Swagger UI on /docs (api/docs.py). A file of its own, not an inline script: the
// page's Content Security Policy allows only this origin's scripts.
"use strict";

(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // No badge from validator.swagger.io: the page asks nothing of other hosts.
    validatorUrl: null,
  });
})();
