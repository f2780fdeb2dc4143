// Themes board: drag a card to another column (SortableJS). Each drop is saved at once with
// the same move the card's own form sends; the forms stay for keyboard and no-JS use.
(function () {
  "use strict";
  // Set up on load, and again when an action redraws the board.
  function setUp() {
    var board = document.getElementById("board");
    if (!board || board.getAttribute("data-ready") || typeof Sortable === "undefined") { return; }
    board.setAttribute("data-ready", "1");
    var base = board.getAttribute("data-move-url");
    var csrf = board.getAttribute("data-csrf");
    var lists = board.querySelectorAll(".board-list");
    for (var i = 0; i < lists.length; i++) {
      Sortable.create(lists[i], {
        group: "board", animation: 120, forceFallback: true, filter: "select, button, option",
        preventOnFilter: false,
        onEnd: function (event) {
          var card = event.item;
          var theme = event.to.getAttribute("data-theme") || "unsorted";
          var form = new FormData();
          form.append("theme", theme);
          form.append("position", String(event.newIndex));
          var select = card.querySelector("select[name=theme]");
          if (select) { select.value = theme; }
          fetch(base + card.getAttribute("data-proposal") + "/move", {
            method: "POST", body: form, credentials: "same-origin",
            headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" }
          }).then(function (response) {
            if (!response.ok) { window.location.reload(); }
          });
        }
      });
    }
  }
  document.addEventListener("DOMContentLoaded", setUp);
  document.addEventListener("htmx:afterSettle", setUp);
})();
