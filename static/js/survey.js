// Shows a conditional question (how many bottles of water?) only while its condition holds.
// Without this script every question is shown, and the server drops answers to hidden ones.
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  var data = document.getElementById("survey-conditions");
  if (!form || !data) return;
  var conditions = JSON.parse(data.textContent);

  function chosenValues(code) {
    var values = [];
    form.querySelectorAll('[name="q-' + code + '"]').forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") ? input.checked : input.value !== "") {
        values.push(input.value);
      }
    });
    return values;
  }

  function isShown(code) {
    var condition = conditions[code];
    if (!condition) return true;
    if (!isShown(condition.question)) return false;
    return chosenValues(condition.question).some(function (value) {
      return condition.values.indexOf(value) !== -1;
    });
  }

  function update() {
    Object.keys(conditions).forEach(function (code) {
      var element = document.getElementById("question-" + code);
      if (!element) return;
      var shown = isShown(code);
      element.hidden = !shown;
      // A hidden answer is not sent, so a changed mind leaves no stale quantity behind.
      element.querySelectorAll("input, textarea, select").forEach(function (input) {
        input.disabled = !shown;
      });
    });
  }

  form.addEventListener("change", update);
  update();
})();
