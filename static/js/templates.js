// テンプレート: live preview of the filled prompt while the variables are typed. Text only (textContent), never HTML.
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("template-fill-form");
    var preview = document.getElementById("template-body");
    if (!form || !preview) return;
    var original = preview.textContent;
    var inputs = form.querySelectorAll("[data-variable]");
    function render() {
      var values = {};
      inputs.forEach(function (input) { values[input.dataset.variable] = input.value; });
      preview.textContent = original.replace(/\{\{([\s\S]*?)\}\}/g, function (whole, name) {
        var value = values[name.trim()];
        return value ? value : whole;
      });
    }
    inputs.forEach(function (input) { input.addEventListener("input", render); });
    render();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
