// An import job's page: poll its progress every second until it is finished, then reload once
// to show the summary and the errors by line.
(function () {
  "use strict";

  var mapping = document.getElementById("import-mapping");
  var mappingText = document.getElementById("mapping-text");
  if (mapping && mappingText) {
    mappingText.textContent = JSON.stringify(JSON.parse(mapping.textContent), null, 2);
  }

  var box = document.getElementById("import-progress");
  if (!box) return;
  var url = box.getAttribute("data-url");

  function show(progress) {
    box.querySelectorAll("[data-field]").forEach(function (element) {
      var name = element.getAttribute("data-field");
      if (name === "bar") {
        element.value = progress.percent;
      } else if (Object.prototype.hasOwnProperty.call(progress, name)) {
        element.textContent = progress[name];
      }
    });
  }

  // Whether the page was drawn with the job finished: if not, it reloads once when the job ends,
  // however quickly that happens (even before the first poll answers).
  var renderedFinished = box.getAttribute("data-finished") === "true";
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (progress) {
        show(progress);
        if (progress.finished) {
          // Reload once if the job finished while we watched, so the errors table appears.
          if (!renderedFinished) window.location.reload();
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  poll();
})();
