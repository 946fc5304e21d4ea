// Progressive enhancement only: every page works without this file.
// Pickers apply as soon as a choice is made (without script, their button does it).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () { form.submit(); });
    });
    form.classList.add("enhanced");
  });
});
