// The source viewer: when the address names a sentence (#ev-START-END), open the list of the
// claims resting on it, mark both, and bring the sentence to the middle of the screen.
// CSS :target does the highlighting without this script; this adds the claim list and centring.
(function () {
  "use strict";

  // Copy the sentence and its claims into the side panel (a page's own markup, no ids).
  function showSelected(span, item) {
    var panel = document.getElementById("selected");
    if (!panel) {
      return;
    }
    var body = panel.querySelector(".selected-body");
    var quote = document.createElement("blockquote");
    quote.className = "quote compact";
    quote.textContent = span.textContent;
    var copy = item.cloneNode(true);
    copy.removeAttribute("id");
    copy.classList.remove("current");
    var list = document.createElement("div");
    Array.prototype.forEach.call(copy.childNodes, function (node) {
      list.appendChild(node.cloneNode(true));
    });
    body.replaceChildren(quote, list);
    panel.hidden = false;
  }

  function show() {
    document.querySelectorAll(".current").forEach(function (el) {
      el.classList.remove("current");
    });
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (!/^ev-[0-9]+-[0-9]+$/.test(id)) {
      return;
    }
    var span = document.getElementById(id);
    if (!span) {
      return;
    }
    span.classList.add("current");
    var item = document.getElementById("claims-" + id);
    if (item) {
      item.classList.add("current");
      var details = item.closest("details");
      if (details) {
        details.open = true;
      }
      showSelected(span, item);
    }
    span.scrollIntoView({ block: "center" });
  }

  window.addEventListener("hashchange", show);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", show);
  } else {
    show();
  }
})();
