/* pzcat product lists: search, filters, sorting and paging in the browser over api/products.json.
   The filter state lives in the URL query (find, type, release, uploader, sort, dir, page), so a
   filtered list can be shared and a reload restores it. Not `q`: mkdocs-material reads `?q=` and
   opens its search overlay over the list. No dependency; runs on every page and acts only on #pz-products. */
(function () {
  "use strict";
  /* Links between the site and the server (pzcat.links): relative when both share an origin. The
     copy-paste examples (Python, curl) need absolute URLs: the configured ones are replaced by the
     ones this page was really served from, so they work on any host and port. */
  var LINKS = /*@@PZ_LINKS@@*/null;
  var me = document.currentScript;
  var SITE_ROOT = me && me.src ? new URL("../", me.src).href : null;
  var SERVER_ROOT = LINKS && SITE_ROOT ? new URL(LINKS.server_from_site, SITE_ROOT).href : null;

  function fixUrls() {
    if (!LINKS || !SITE_ROOT) { return; }
    var pairs = [[LINKS.site, SITE_ROOT], [LINKS.server, SERVER_ROOT]].filter(function (p) {
      return p[0] && p[1] && p[0] !== p[1];
    }).sort(function (a, b) { return b[0].length - a[0].length; });
    if (!pairs.length) { return; }
    document.querySelectorAll("code, .pz-url").forEach(function (code) {
      var walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
      var node;
      while ((node = walker.nextNode())) {
        var text = node.nodeValue, out = text;
        pairs.forEach(function (p) { out = out.split(p[0]).join("\u0000" + pairs.indexOf(p) + "\u0000"); });
        if (out !== text) {
          node.nodeValue = out.replace(/\u0000(\d+)\u0000/g, function (_m, i) { return pairs[+i][1]; });
        }
      }
    });
  }
  var PAGE = 50;
  var COLS = [
    ["name", "Name"], ["product_type_display", "Type"], ["release", "Release"],
    ["uploaded_by", "Uploaded by"], ["created", "Created"], ["n_rows", "Rows"],
    ["size", "Size"], ["version", "Version"]
  ];

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function human(n) {
    if (n === null || n === undefined) { return ""; }
    var u = ["B", "KB", "MB", "GB", "TB"], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + u[i];
  }
  function uniq(items, key) {
    var seen = {};
    items.forEach(function (p) { if (p[key]) { seen[p[key]] = p[key + "_display"] || p[key]; } });
    return Object.keys(seen).sort().map(function (k) { return [k, seen[k]]; });
  }

  function init(root) {
    var base = root.getAttribute("data-base") || "";
    var scope = root.getAttribute("data-scope") || "all";
    var status = el("p", { "class": "pz-count", id: "pz-status" }, "Loading products…");
    root.appendChild(status);
    fetch(base + "api/products.json").then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (data) {
      var all = (data.products || []).filter(function (p) {
        if (scope === "official") { return p.official; }
        if (scope === "user") { return !p.official; }
        return true;
      });
      all.forEach(function (p) {
        p._hay = [p.name, p.internal_name, p.description, (p.columns || []).join(" "),
                  p.uploaded_by, p.pz_code].join(" ").toLowerCase();
      });
      status.remove();
      build(root, base, all);
    }).catch(function (err) {
      status.textContent = "Could not load the product list (" + err.message + ").";
    });
  }

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    return {
      q: params.get("find") || "", type: params.get("type") || "", release: params.get("release") || "",
      uploader: params.get("uploader") || "", sort: params.get("sort") || "created",
      dir: params.get("dir") || (params.get("sort") ? "asc" : "desc"),
      page: Math.max(1, parseInt(params.get("page") || "1", 10) || 1)
    };
  }

  function build(root, base, all) {
    var state = readUrl();
    var controls = el("div", { "class": "pz-controls" });
    var q = el("input", { type: "search", id: "pz-search", placeholder: "Search names, descriptions, columns…",
                          "aria-label": "Search products" });
    q.value = state.q;
    controls.appendChild(q);
    function select(id, label, options, value) {
      var s = el("select", { id: id, "aria-label": label });
      s.appendChild(el("option", { value: "" }, "All " + label.toLowerCase()));
      options.forEach(function (o) {
        var opt = el("option", { value: o[0] }, o[1]);
        if (o[0] === value) { opt.selected = true; }
        s.appendChild(opt);
      });
      controls.appendChild(s);
      return s;
    }
    var types = uniq(all, "product_type").sort(function (a, b) {
      var oa = all.find(function (p) { return p.product_type === a[0]; }).product_type_order;
      var ob = all.find(function (p) { return p.product_type === b[0]; }).product_type_order;
      return oa - ob;
    });
    var sType = select("pz-type", "Types", types, state.type);
    var sRelease = select("pz-release", "Releases", uniq(all, "release"), state.release);
    var sUploader = select("pz-uploader", "Uploaders", uniq(all, "uploaded_by"), state.uploader);
    var count = el("span", { "class": "pz-count", id: "pz-count" });
    controls.appendChild(count);
    root.appendChild(controls);

    var wrap = el("div", { "class": "pz-scroll" });
    var table = el("table", { id: "pz-table" });
    var thead = el("thead"), tr = el("tr");
    COLS.forEach(function (c) {
      var th = el("th", { "data-key": c[0], tabindex: "0", role: "columnheader" }, c[1]);
      th.addEventListener("click", function () { sortBy(c[0]); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(c[0]); } });
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    table.appendChild(thead);
    var tbody = el("tbody");
    table.appendChild(tbody);
    wrap.appendChild(table);
    root.appendChild(wrap);
    var pager = el("div", { "class": "pz-pager" });
    var prev = el("button", { type: "button", id: "pz-prev" }, "‹ Previous");
    var info = el("span", { id: "pz-page" });
    var next = el("button", { type: "button", id: "pz-next" }, "Next ›");
    pager.appendChild(prev); pager.appendChild(info); pager.appendChild(next);
    root.appendChild(pager);

    function sortBy(key) {
      if (state.sort === key) { state.dir = state.dir === "asc" ? "desc" : "asc"; }
      else { state.sort = key; state.dir = "asc"; }
      state.page = 1;
      render();
    }
    function onFilter() {
      state.q = q.value.trim(); state.type = sType.value; state.release = sRelease.value;
      state.uploader = sUploader.value; state.page = 1;
      render();
    }
    q.addEventListener("input", onFilter);
    [sType, sRelease, sUploader].forEach(function (s) { s.addEventListener("change", onFilter); });
    prev.addEventListener("click", function () { state.page--; render(); });
    next.addEventListener("click", function () { state.page++; render(); });

    function writeUrl() {
      var p = new URLSearchParams();
      if (state.q) { p.set("find", state.q); }
      if (state.type) { p.set("type", state.type); }
      if (state.release) { p.set("release", state.release); }
      if (state.uploader) { p.set("uploader", state.uploader); }
      if (state.sort !== "created" || state.dir !== "desc") { p.set("sort", state.sort); p.set("dir", state.dir); }
      if (state.page > 1) { p.set("page", String(state.page)); }
      var qs = p.toString();
      var url = window.location.pathname + (qs ? "?" + qs : "") + window.location.hash;
      if (url !== window.location.pathname + window.location.search + window.location.hash) {
        history.replaceState(null, "", url);
      }
    }
    function showState() {
      q.value = state.q; sType.value = state.type; sRelease.value = state.release;
      sUploader.value = state.uploader;
    }
    window.addEventListener("popstate", function () { state = readUrl(); showState(); render(); });
    function compare(a, b) {
      var x = a[state.sort], y = b[state.sort];
      if (x === null || x === undefined) { x = ""; }
      if (y === null || y === undefined) { y = ""; }
      var r = (typeof x === "number" && typeof y === "number") ? x - y
        : String(x).localeCompare(String(y), undefined, { numeric: true, sensitivity: "base" });
      if (r === 0) { r = a.id - b.id; }
      return state.dir === "asc" ? r : -r;
    }
    function render() {
      var terms = state.q.toLowerCase().split(/\s+/).filter(Boolean);
      var rows = all.filter(function (p) {
        if (state.type && p.product_type !== state.type) { return false; }
        if (state.release && p.release !== state.release) { return false; }
        if (state.uploader && p.uploaded_by !== state.uploader) { return false; }
        return terms.every(function (t) { return p._hay.indexOf(t) >= 0; });
      }).sort(compare);
      var pages = Math.max(1, Math.ceil(rows.length / PAGE));
      state.page = Math.min(Math.max(1, state.page), pages);
      var shown = rows.slice((state.page - 1) * PAGE, state.page * PAGE);
      tbody.textContent = "";
      shown.forEach(function (p) {
        var r = el("tr", { "data-name": p.internal_name });
        var td = el("td");
        var a = el("a", { href: base + "product/" + p.internal_name + "/" }, p.name);
        td.appendChild(a);
        if (p.official) { td.appendChild(document.createTextNode(" ")); td.appendChild(el("span", { "class": "pz-badge pz-official" }, "official")); }
        if (p.status !== "published") { td.appendChild(document.createTextNode(" ")); td.appendChild(el("span", { "class": "pz-badge pz-status-" + p.status }, p.status)); }
        r.appendChild(td);
        r.appendChild(el("td", null, p.product_type_display));
        r.appendChild(el("td", null, p.release_display || ""));
        r.appendChild(el("td", null, p.uploaded_by));
        r.appendChild(el("td", null, (p.created || "").slice(0, 10)));
        r.appendChild(el("td", null, p.n_rows === null || p.n_rows === undefined ? "" : p.n_rows.toLocaleString("en")));
        r.appendChild(el("td", null, human(p.size)));
        r.appendChild(el("td", null, p.version));
        tbody.appendChild(r);
      });
      if (!shown.length) {
        var empty = el("tr"); var c = el("td", { colspan: String(COLS.length) }, "No product matches.");
        empty.appendChild(c); tbody.appendChild(empty);
      }
      thead.querySelectorAll("th").forEach(function (th) {
        var k = th.getAttribute("data-key");
        if (k === state.sort) { th.setAttribute("aria-sort", state.dir === "asc" ? "ascending" : "descending"); }
        else { th.removeAttribute("aria-sort"); }
      });
      count.textContent = rows.length + " of " + all.length + " products";
      info.textContent = "Page " + state.page + " of " + pages;
      prev.disabled = state.page <= 1;
      next.disabled = state.page >= pages;
      writeUrl();
    }
    render();
  }

  /* Sign-in links return to this page: /-/tokens?next=<this path> (same origin only). */
  function signinLinks() {
    if (!SERVER_ROOT || new URL(SERVER_ROOT).origin !== window.location.origin) { return; }
    document.querySelectorAll("a.pz-signin").forEach(function (a) {
      var u = new URL(a.getAttribute("href"), window.location.href);
      u.searchParams.set("next", window.location.pathname + window.location.search);
      a.setAttribute("href", u.pathname + u.search);
    });
  }
  function start() {
    fixUrls();
    signinLinks();
    var root = document.getElementById("pz-products");
    if (root && !root.getAttribute("data-ready")) { root.setAttribute("data-ready", "1"); init(root); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
