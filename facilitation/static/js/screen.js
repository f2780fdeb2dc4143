// The projector. What does not fit on one screen comes as pages (sections with `hidden`):
// they turn by themselves every 8 seconds, and a presenter clicker (arrows, space,
// PageUp/PageDown) turns them first, then moves to the next or previous step.
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-step-url");
  var token = body.getAttribute("data-csrf");
  var TURN = 8000;
  var current = 0;
  var key = null;  // which step and question the pages belong to
  var timer = null;

  function pages() { return document.querySelectorAll("#screen .screen-page"); }

  function show(index) {
    var all = pages();
    if (!all.length) { current = 0; return; }
    current = Math.max(0, Math.min(index, all.length - 1));
    for (var i = 0; i < all.length; i++) { all[i].hidden = i !== current; }
  }

  function restartTimer() {
    if (timer) { clearInterval(timer); }
    timer = setInterval(function () {
      var count = pages().length;
      if (count > 1) { show((current + 1) % count); }
    }, TURN);
  }

  // A live update redraws the screen with its first page shown: stay on the page the
  // room is reading, unless the step or question changed.
  function redrawn() {
    var screen = document.getElementById("screen");
    var now = screen ? screen.getAttribute("data-pages-key") : null;
    if (now !== key) { key = now; current = 0; restartTimer(); }
    show(current);
  }
  document.addEventListener("htmx:oobAfterSwap", redrawn);
  document.addEventListener("htmx:afterSwap", redrawn);
  redrawn();

  if (!url) { return; }
  var moves = { ArrowRight: 1, ArrowDown: 1, PageDown: 1, " ": 1,
                ArrowLeft: -1, ArrowUp: -1, PageUp: -1 };
  document.addEventListener("keydown", function (event) {
    var move = moves[event.key];
    if (!move || event.altKey || event.ctrlKey || event.metaKey) { return; }
    event.preventDefault();
    var count = pages().length;
    var target = current + move;
    if (target >= 0 && target < count) {  // a page to turn first
      show(target);
      restartTimer();
      return;
    }
    var form = new FormData();
    form.append("move", move > 0 ? "next" : "previous");
    fetch(url, { method: "POST", body: form, credentials: "same-origin",
                 headers: { "X-CSRF-Token": token } });
  });
})();
