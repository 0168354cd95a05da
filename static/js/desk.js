// The check-in desk: select a whole household with one tap, add member rows to the walk-in form,
// and keep the search box focused so a QR scanner (which types and presses Enter) just works.
(function () {
  "use strict";

  document.querySelectorAll(".select-household").forEach(function (button) {
    button.addEventListener("click", function () {
      button.closest("fieldset").querySelectorAll("input[type=checkbox]:not(:disabled)").forEach(function (box) {
        box.checked = true;
      });
    });
  });

  var addMember = document.getElementById("add-member");
  var template = document.getElementById("member-template");
  var total = document.getElementById("id_member-TOTAL_FORMS");
  if (addMember && template && total) {
    addMember.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      document.getElementById("members").insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var first = document.querySelector("#members fieldset:last-child input");
      if (first) first.focus();
    });
  }

  // A second tap on a submit button must not send the form twice (the idempotency key also
  // guards the server side).
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  });
})();

// The questions to the resident in the walk-in form: "later" clears the answers, so nothing is
// recorded and they are asked next time.
(function () {
  "use strict";
  var clear = document.getElementById("walk-in-ask-later");
  if (!clear) return;
  clear.addEventListener("click", function () {
    clear.closest("fieldset").querySelectorAll("input[type=radio]").forEach(function (radio) {
      radio.checked = false;
    });
  });
})();
