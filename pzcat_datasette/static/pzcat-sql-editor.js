// pzcat: the SQL editor of the query and database pages (CodeMirror, the "Format SQL" button).
// Replaces Datasette's inline start-up script (the server's Content-Security-Policy runs no
// inline script); CodeMirror and the SQL formatter are Datasette's own static files.
window.addEventListener("load", function () {
  var format = document.querySelector("button#sql-format");
  var shown = document.querySelector("pre#sql-query");
  var input = document.querySelector("textarea#sql-editor");
  if (input && window.CodeMirror) {
    if (format) {
      format.hidden = false;
    }
    var editor = window.CodeMirror.fromTextArea(input, {
      lineNumbers: true,
      mode: "text/x-sql",
      lineWrapping: true,
    });
    editor.setOption("extraKeys", {
      "Shift-Enter": function () {
        editor.save();
        document.querySelector("form.sql").submit();
      },
      Tab: false,
    });
    if (format && window.sqlFormatter) {
      format.addEventListener("click", function () {
        editor.setValue(window.sqlFormatter.format(editor.getValue()));
      });
    }
    if (window.cmResize) {
      window.cmResize(editor, { resizableWidth: false });
    }
  }
  if (format && shown && !input && window.sqlFormatter) {
    var pretty = window.sqlFormatter.format(shown.textContent);
    if (pretty !== shown.textContent) {
      format.hidden = false;
      format.addEventListener("click", function () {
        shown.textContent = pretty;
      });
    }
  }
});
