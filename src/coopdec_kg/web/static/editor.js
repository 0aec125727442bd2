// The SPARQL page's editor: Ctrl+Enter (or Cmd+Enter) runs the query, Tab indents.
// The page works without it: it is a plain form.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const editor = document.getElementById("query");
  if (!editor) return;
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      editor.form.requestSubmit();
    } else if (event.key === "Tab" && !event.shiftKey) {
      event.preventDefault();
      const start = editor.selectionStart;
      editor.setRangeText("  ", start, editor.selectionEnd, "end");
    }
  });
});
