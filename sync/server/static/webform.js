// Progressive enhancement only: the form works without this file. It brings the first error into view and
// keeps a double tap on "Send" from posting twice.
(function () {
  "use strict";
  var errors = document.getElementById("errors");
  if (errors) { errors.focus(); }
  var form = document.getElementById("wf");
  if (!form) { return; }
  form.addEventListener("submit", function () {
    var button = form.querySelector(".wf-send");
    if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
  });
}());
