// Typing paper forms with digits and Enter only: Enter moves to the next field instead of sending the form (it
// sends from the last field); a key that is not one of a one-digit field's digits is dropped. Each answer is a digit
// then Enter, a skipped one just Enter. Without this script the page still works: Enter sends the form as it is.
(function () {
  "use strict";
  var form = document.querySelector("form.entry");
  if (!form) { return; }
  var fields = Array.prototype.slice.call(form.querySelectorAll("input:not([type=hidden])"));
  function next(input) {
    var i = fields.indexOf(input);
    if (i >= 0 && i + 1 < fields.length) { fields[i + 1].focus(); fields[i + 1].select(); return true; }
    return false;
  }
  fields.forEach(function (input) {
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      if (input === fields[fields.length - 1]) { return; }
      if (input.required && !input.value) { event.preventDefault(); return; }
      event.preventDefault();
      next(input);
    });
    if (input.classList.contains("digit")) {
      input.addEventListener("input", function () {
        var allowed = input.getAttribute("data-allowed") || "";
        if (input.value.length === 1 && allowed.indexOf(input.value) < 0) { input.value = ""; }
      });
    }
  });
})();
