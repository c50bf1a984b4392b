// pzcat: what the theme (mkdocs-material) starts with in inline scripts, from a file instead, so
// the site runs under a Content-Security-Policy without 'unsafe-inline' scripts. Loaded in <head>
// before the theme's bundle, which uses these globals: the scope of the site (its root URL, from
// this tag's data-scope) and the helpers that keep the theme's state in local storage per site.
(function () {
  var tag = document.currentScript;
  window.__md_scope = new URL(tag.getAttribute("data-scope") || ".", location);
  window.__md_hash = function (text) {
    var h = 0;
    for (var i = 0; i < text.length; i++) {
      h = ((h << 5) - h + text.charCodeAt(i)) | 0;
    }
    return h;
  };
  window.__md_get = function (key, storage, scope) {
    storage = storage || localStorage;
    scope = scope || window.__md_scope;
    return JSON.parse(storage.getItem(scope.pathname + "." + key));
  };
  window.__md_set = function (key, value, storage, scope) {
    storage = storage || localStorage;
    scope = scope || window.__md_scope;
    try {
      storage.setItem(scope.pathname + "." + key, JSON.stringify(value));
    } catch (e) {
      // storage full or forbidden: the theme works without it
    }
  };
  // a link to a tab of tabbed content (#__tabbed_...) opens that tab
  document.addEventListener("DOMContentLoaded", function () {
    var target = document.getElementById(location.hash.slice(1));
    if (target && target.name) {
      target.checked = target.name.indexOf("__tabbed_") === 0;
    }
  });
})();
