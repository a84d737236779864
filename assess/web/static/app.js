// assess serve's only script (the CSP allows no inline script): item timers, tab keys in code
// editors, the busy state of submit buttons, the live progress panel (Server-Sent Events), print.
"use strict";

function pad(n) { return n < 10 ? "0" + n : "" + n; }

// The server is authoritative on time: this only shows what is left and, at zero, the page's
// time-up notice. It submits nothing: an answer sent late is graded and counted as late.
function startTimers() {
  document.querySelectorAll("[data-remaining-ms]").forEach(function (el) {
    var end = Date.now() + Number(el.getAttribute("data-remaining-ms"));
    var notice = document.querySelector("[data-time-up]");
    function tick() {
      var left = end - Date.now();
      var s = Math.max(0, Math.ceil(left / 1000));
      el.textContent = Math.floor(s / 60) + ":" + pad(s % 60);
      if (s > 0) { setTimeout(tick, left % 1000 || 1000); return; }
      el.classList.add("up");
      if (notice) notice.hidden = false;
    }
    tick();
  });
}

function tabsInEditors() {
  document.querySelectorAll("textarea[data-tabs]").forEach(function (ta) {
    ta.addEventListener("keydown", function (e) {
      if (e.key !== "Tab" || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey) return;
      e.preventDefault();
      var s = ta.selectionStart, t = ta.selectionEnd;
      ta.value = ta.value.slice(0, s) + "\t" + ta.value.slice(t);
      ta.selectionStart = ta.selectionEnd = s + 1;
    });
  });
}

function busyButtons() {
  document.querySelectorAll("form").forEach(function (f) {
    f.addEventListener("submit", function () {
      var b = f.querySelector("button[data-busy]");
      if (b) { b.disabled = true; b.textContent = b.getAttribute("data-busy"); }
    });
  });
}

function field(panel, name) { return panel.querySelector('[data-field="' + name + '"]'); }

function liveProgress() {
  var panel = document.getElementById("live");
  if (!panel || !window.EventSource) return;
  var status = field(panel, "status");
  var es = new EventSource(panel.getAttribute("data-events"));
  es.onopen = function () { status.textContent = "(live)"; };
  es.onerror = function () { status.textContent = "(reconnecting…)"; };
  es.addEventListener("progress", function (e) {
    var p = JSON.parse(e.data);
    field(panel, "state").textContent = p.state;
    field(panel, "answered").textContent = p.answered;
    field(panel, "correct").textContent = p.correct;
    field(panel, "current").textContent = p.current ? "#" + p.current.seq + " " + p.current.item : "none";
    var list = field(panel, "estimates");
    list.replaceChildren();
    p.estimates.forEach(function (est) {
      var li = document.createElement("li");
      li.textContent = est.dimension + ": θ " + est.theta.toFixed(2) + " ± " + est.se.toFixed(2);
      list.appendChild(li);
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  startTimers();
  tabsInEditors();
  busyButtons();
  liveProgress();
  document.querySelectorAll("[data-print]").forEach(function (b) { b.addEventListener("click", function () { window.print(); }); });
  document.querySelectorAll("[data-select]").forEach(function (i) { i.addEventListener("focus", function () { i.select(); }); });
});
