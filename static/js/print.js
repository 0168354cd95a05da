// The "Print" buttons of the poster and the slip (no inline handlers: the CSP refuses them).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
