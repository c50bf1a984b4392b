// pzcat: what Datasette's table page set in an inline script (DATASETTE_ALLOW_FACET), read from
// this script tag's data-allow-facet attribute instead (no inline script under the server's CSP).
// Loaded before Datasette's deferred table.js, which reads the variable.
window.DATASETTE_ALLOW_FACET = document.currentScript.getAttribute("data-allow-facet") === "true";
