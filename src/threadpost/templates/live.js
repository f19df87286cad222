// threadpost watch: follow the local server's events and swap the preview in place.
// Same origin only (the page's Content-Security-Policy allows nothing else).
"use strict";
(function () {
  var status = document.getElementById("live-status");
  var preview = document.getElementById("preview");
  function say(text, kind) {
    status.textContent = text;
    status.className = "live-status " + (kind || "");
  }
  var source = new EventSource("/events");
  source.addEventListener("preview", function (event) {
    var update = JSON.parse(event.data);
    // Keep open content warnings open across updates.
    var open = [];
    preview.querySelectorAll("details[open]").forEach(function (node) {
      var post = node.closest("article");
      var column = node.closest("section");
      if (post && column) open.push(column.dataset.platform + ":" + post.dataset.index);
    });
    preview.innerHTML = update.html;
    open.forEach(function (key) {
      var parts = key.split(":");
      var node = preview.querySelector(
        'section[data-platform="' + parts[0] + '"] article[data-index="' + parts[1] + '"] details');
      if (node) node.open = true;
    });
    document.documentElement.dataset.version = String(update.version);
    say("Updated " + new Date().toLocaleTimeString() + " (revision " + update.version + ")", "ok");
  });
  source.addEventListener("open", function () { say("Watching the draft: the page follows every save.", "ok"); });
  source.addEventListener("error", function () {
    say("Not connected to threadpost watch (stopped?): retrying…", "lost");
  });
})();
