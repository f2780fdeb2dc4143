// Projector keyboard: arrows, space and PageUp/PageDown (presenter clickers) move steps.
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-step-url");
  var token = body.getAttribute("data-csrf");
  if (!url) { return; }
  var next = { ArrowRight: "next", ArrowDown: "next", PageDown: "next", " ": "next",
               ArrowLeft: "previous", ArrowUp: "previous", PageUp: "previous" };
  document.addEventListener("keydown", function (event) {
    var move = next[event.key];
    if (!move || event.altKey || event.ctrlKey || event.metaKey) { return; }
    event.preventDefault();
    var form = new FormData();
    form.append("move", move);
    fetch(url, { method: "POST", body: form, credentials: "same-origin",
                 headers: { "X-CSRF-Token": token } });
  });
})();

// A wall with many proposals is shown page by page, turning every 8 seconds. The pages are
// looked up at each turn: live updates replace them.
(function () {
  "use strict";
  var current = 0;
  setInterval(function () {
    var pages = document.querySelectorAll(".wall-page");
    if (pages.length < 2) { current = 0; return; }
    current = (current + 1) % pages.length;
    for (var i = 0; i < pages.length; i++) { pages[i].hidden = i !== current; }
  }, 8000);
})();
