/* ReDoc (vendored) on /openapi.json, in the system fonts (no web fonts are loaded). */
(function () {
  "use strict";
  const host = document.getElementById("redoc");
  const fonts = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
  window.Redoc.init(
    host.getAttribute("data-openapi-url"),
    { theme: { typography: { fontFamily: fonts, headings: { fontFamily: fonts } } } },
    host
  );
})();
