// pzcat: copy buttons (the new token at /-/tokens). A static file, because the server's
// Content-Security-Policy runs no inline script or onclick handler.
// <button type="button" data-pz-copy="ID"> copies the value of the field with that id.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-pz-copy]") : null;
  if (!button) {
    return;
  }
  var field = document.getElementById(button.getAttribute("data-pz-copy"));
  if (!field) {
    return;
  }
  field.select();
  var copied = function () {
    button.textContent = "Copied";
  };
  var fallback = function () {
    if (document.execCommand("copy")) {
      copied();
    } else {
      button.textContent = "Select and copy (Ctrl+C)";
    }
  };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(field.value).then(copied, fallback);
  } else {
    fallback();
  }
});
