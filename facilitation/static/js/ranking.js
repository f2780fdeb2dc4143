// The participant page's script. Refused with Retry-After (503: full, 429: too fast), a
// form is sent again after it (its idempotency key makes it count once), saying so above;
// after five tries the person is asked to press again. Panel fetches are retried alike.
(function () {
  "use strict";
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr, elt = event.detail.elt;
    if (xhr.status !== 503 && xhr.status !== 429 || !elt) return;
    var tries = (+elt.getAttribute("data-tries") || 0) + 1, form = elt.tagName === "FORM";
    elt.setAttribute("data-tries", tries);
    if (form) {
      var old = elt.querySelector(".busy");
      if (old) old.remove();
      elt.insertAdjacentHTML("afterbegin", xhr.responseText);
    }
    var note = form && elt.querySelector(".busy");
    if (tries > 5) {
      if (note) {
        note.setAttribute("role", "alert");
        note.querySelector(".busy-again").hidden = true;
        note.querySelector(".busy-stop").hidden = false;
      }
      elt.removeAttribute("data-tries");
      return;
    }
    var wait = (parseFloat(xhr.getResponseHeader("Retry-After")) || 1) * (1000 + 500 * Math.random());
    setTimeout(function () {
      if (form) htmx.trigger(elt, "submit");
      else htmx.ajax("GET", elt.getAttribute("hx-get"), { target: "#panel", swap: "outerHTML" });
    }, wait);
  });
})();

// Ranking questions: with JavaScript, options become a list to reorder by dragging or with
// "move up / move down" buttons; the numbered selects (the no-JS form) stay and follow.
(function () {
  "use strict";

  function renumber(list) {
    var rows = list.querySelectorAll(".rank-row");
    for (var i = 0; i < rows.length; i++) {
      rows[i].querySelector("select").value = String(i + 1);
    }
  }

  function button(text, label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "rank-move";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  function enhance(box) {
    if (box.getAttribute("data-enhanced")) { return; }
    box.setAttribute("data-enhanced", "1");
    var rows = Array.prototype.slice.call(box.querySelectorAll(".rank-row"));
    rows.sort(function (a, b) {
      var va = parseInt(a.querySelector("select").value, 10) || 99;
      var vb = parseInt(b.querySelector("select").value, 10) || 99;
      return va - vb;
    });
    var list = document.createElement("div");
    list.className = "rank-list";
    rows.forEach(function (row) {
      row.querySelector("select").addEventListener("change", function () {
        // Choosing a rank in the list moves the option there.
        var target = parseInt(this.value, 10) - 1;
        var others = Array.prototype.filter.call(
          list.querySelectorAll(".rank-row"), function (r) { return r !== row; });
        list.insertBefore(row, others[target] || null);
        renumber(list);
      });
      var name = row.querySelector("label").textContent;
      row.appendChild(button("↑", box.getAttribute("data-up") + " : " + name, function () {
        if (row.previousElementSibling) { list.insertBefore(row, row.previousElementSibling); }
        renumber(list); this.focus();
      }));
      row.appendChild(button("↓", box.getAttribute("data-down") + " : " + name, function () {
        if (row.nextElementSibling) { list.insertBefore(row.nextElementSibling, row); }
        renumber(list); this.focus();
      }));
      list.appendChild(row);
    });
    box.appendChild(list);
    box.classList.add("enhanced");
    renumber(list);

    var dragged = null;
    list.addEventListener("pointerdown", function (event) {
      var handle = event.target.closest(".rank-handle");
      if (!handle) { return; }
      dragged = handle.closest(".rank-row");
      dragged.classList.add("dragging");
      handle.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    list.addEventListener("pointermove", function (event) {
      if (!dragged) { return; }
      var rows = list.querySelectorAll(".rank-row");
      for (var i = 0; i < rows.length; i++) {
        var box2 = rows[i].getBoundingClientRect();
        if (rows[i] !== dragged && event.clientY > box2.top && event.clientY < box2.bottom) {
          var after = event.clientY > box2.top + box2.height / 2;
          list.insertBefore(dragged, after ? rows[i].nextElementSibling : rows[i]);
          break;
        }
      }
    });
    function drop() {
      if (!dragged) { return; }
      dragged.classList.remove("dragging");
      dragged = null;
      renumber(list);
    }
    list.addEventListener("pointerup", drop);
    list.addEventListener("pointercancel", drop);
  }

  function init(root) {
    var boxes = (root || document).querySelectorAll("[data-ranking]");
    for (var i = 0; i < boxes.length; i++) { enhance(boxes[i]); }
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
})();

// A proposal being typed when the step moves on (a pushed panel, or one fetched after a
// push): the new panel says what was not sent, or takes the text back if it asks again.
(function () {
  "use strict";
  var kept = "";
  function before(event) {
    var d = event.detail, box = document.getElementById("proposal-text");
    var fetched = d.requestConfig && d.requestConfig.verb === "get";
    if (d.target && d.target.id === "panel" && box && (fetched || event.type === "htmx:oobBeforeSwap")) {
      kept = box.value.trim();
    }
  }
  function after() {
    var panel = document.getElementById("panel"), box = document.getElementById("proposal-text");
    if (!kept || !panel) { return; }
    if (box) { box.value = kept; } else {
      var div = document.createElement("div"), p = document.createElement("p");
      var quote = document.createElement("blockquote");
      div.className = "draft"; p.textContent = panel.getAttribute("data-unsent");
      quote.className = "item"; quote.textContent = kept;
      div.appendChild(p); div.appendChild(quote); panel.insertBefore(div, panel.firstChild);
    }
    kept = "";
  }
  document.addEventListener("htmx:oobBeforeSwap", before);
  document.addEventListener("htmx:beforeSwap", before);
  document.addEventListener("htmx:oobAfterSwap", after);
  document.addEventListener("htmx:afterSettle", after);
})();
