// pzcat: a click outside an open menu (<details>) closes it. Replaces Datasette's inline script
// of the same purpose (the server's Content-Security-Policy runs no inline script).
document.addEventListener("click", function (event) {
  var inside = event.target.closest ? event.target.closest("details") : null;
  document.querySelectorAll("details[open]").forEach(function (menu) {
    if (menu !== inside && !menu.contains(inside)) {
      menu.open = false;
    }
  });
});
