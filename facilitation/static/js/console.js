// The facilitator's run view. Everything here also works without it (plain forms); it adds:
// a presenter clicker, the scroll and focus kept across actions, new proposals arriving
// in the moderation list, and the rest of the page following a step changed elsewhere.
(function () {
  "use strict";
  var body = document.body;

  // Clicker: Page Down / → / space walk forward (the next question, then the next step),
  // Page Up / ← back. Arrows and space only when no control has the focus.
  var moves = { PageDown: "next", PageUp: "previous", ArrowRight: "next", ArrowLeft: "previous",
                " ": "next" };
  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable ||
      (el.tagName === "INPUT" && el.type !== "checkbox" && el.type !== "radio"));
  }
  document.addEventListener("keydown", function (event) {
    var move = moves[event.key];
    if (!move || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    var el = document.activeElement;
    if (typing(el)) { return; }
    var free = !el || el === body || el === document.documentElement;
    if (!free && event.key !== "PageDown" && event.key !== "PageUp") { return; }
    event.preventDefault();
    var form = new FormData();
    form.append("move", move);
    fetch(body.getAttribute("data-walk-url"), {
      method: "POST", body: form, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "HX-Request": "true" }
    });
  });
  function csrf() {
    try { return JSON.parse(body.getAttribute("hx-headers"))["X-CSRF-Token"]; }
    catch (e) { return ""; }
  }

  // Focus kept across an action: the page part is redrawn, the same button gets it back.
  var focusKey = null, focusHome = null;
  function keyOf(el) {
    var form = el && el.closest && el.closest("form");
    if (!form) { return el && el.id ? "#" + el.id : null; }
    var fields = Array.prototype.map.call(form.querySelectorAll("input[type=hidden]:not([name=csrf]):not([name=idem]):not([name=from])"),
      function (i) { return i.name + "=" + i.value; }).join("&");
    return form.getAttribute("action") + "?" + fields;
  }
  function remember() {
    var el = document.activeElement;
    if (!el || el === body) { return; }
    focusKey = keyOf(el);
    var home = el.parentElement && el.parentElement.closest("[id]");
    focusHome = home ? home.id : null;
  }
  document.addEventListener("htmx:beforeRequest", remember);
  // A push redraws a part of the page: whoever had the focus in it gets it back.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.contains(document.activeElement)) { remember(); }
  });
  function refocus() {
    if (!focusKey || (document.activeElement && document.activeElement !== body)) { return; }
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      var button = forms[i].querySelector("button");
      if (button && keyOf(button) === focusKey) { button.focus({ preventScroll: true }); return; }
    }
    // The button changed (Masquer became Afficher): the first one of the same card.
    var home = focusHome && document.getElementById(focusHome);
    var first = home && home.querySelector("button, a[href], summary");
    if (first) { first.focus({ preventScroll: true }); }
  }
  document.addEventListener("htmx:afterSettle", refocus);

  // New proposals: merged into the moderation list; a card being corrected is left alone.
  function busy(item) {
    var el = document.activeElement;
    return item.querySelector("details[open]") || (el && el !== body && item.contains(el));
  }
  function mergeFeed() {
    var feed = document.getElementById("moderation-feed");
    var list = document.querySelector("ol.moderation");
    if (!feed || !feed.content || !list) { return; }
    var fresh = feed.content.children;
    var keep = {};
    var previous = null;
    for (var i = 0; i < fresh.length; i++) {
      var item = fresh[i];
      keep[item.id] = true;
      var old = document.getElementById(item.id);
      var copy = document.importNode(item, true);
      // A pushed card has no CSRF value (the push is the same for every facilitator).
      var fields = copy.querySelectorAll("input[name=csrf]");
      for (var f = 0; f < fields.length; f++) { fields[f].value = csrf(); }
      if (old && old.parentNode === list) {
        // What a card shows is its text (form values aside): redraw only when it changed.
        if (!busy(old) && old.textContent !== copy.textContent) {
          list.replaceChild(copy, old);
          if (window.htmx) { window.htmx.process(copy); }
          old = copy;
        }
        previous = old;
      } else {
        list.insertBefore(copy, previous ? previous.nextSibling : list.firstChild);
        if (window.htmx) { window.htmx.process(copy); }
        previous = copy;
      }
    }
    var items = list.children;
    for (var j = items.length - 1; j >= 0; j--) {
      if (!keep[items[j].id] && !busy(items[j]) && fresh.length) { list.removeChild(items[j]); }
    }
    var count = document.getElementById("proposals-count");
    if (count) { count.textContent = feed.getAttribute("data-count"); }
  }

  // A step changed elsewhere (the projector's clicker, another tab): the rest of the page
  // follows, unless something is being typed there.
  function followStep() {
    var now = document.getElementById("facilitator-now");
    var area = document.getElementById("board-area");
    if (!now || !area || !window.htmx) { return; }
    if (now.getAttribute("data-step") === area.getAttribute("data-step")) { return; }
    var el = document.activeElement;
    if (typing(el) && el.value) { return; }
    area.setAttribute("data-step", now.getAttribute("data-step"));  // asked once
    fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("board-area");
        var current = document.getElementById("board-area");
        if (!fresh || !current) { return; }
        var copy = document.importNode(fresh, true);
        current.parentNode.replaceChild(copy, current);
        window.htmx.process(copy);
        document.dispatchEvent(new CustomEvent("htmx:afterSettle"));  // the board's drag set-up
      });
  }

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    // Pushed forms are the same for every facilitator: each page puts in its own token.
    var empty = document.querySelectorAll("input[name=csrf]");
    for (var i = 0; i < empty.length; i++) { if (!empty[i].value) { empty[i].value = csrf(); } }
    refocus();
    var id = event.detail && event.detail.target && event.detail.target.id;
    if (id === "moderation-feed") { mergeFeed(); }
    if (id === "facilitator-now") { followStep(); }
  });
})();
