// Timers count down once a second from their end (data-end, epoch seconds); the server
// drew the same text when the page or the push was made. Nothing closes when one ends.
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function clock(s) {
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    return h ? h + ":" + pad(m) + ":" + pad(r) : m + ":" + pad(r);
  }
  setInterval(function () {
    var timers = document.querySelectorAll(".timer[data-end]");
    for (var i = 0; i < timers.length; i++) {
      var left = Math.ceil(Number(timers[i].getAttribute("data-end")) - Date.now() / 1000);
      var face = timers[i].querySelector(".timer-clock");
      if (!face) { continue; }
      face.textContent = left > 0 ? clock(left) : timers[i].getAttribute("data-over");
      timers[i].classList.toggle("over", left <= 0);
    }
  }, 1000);
})();
