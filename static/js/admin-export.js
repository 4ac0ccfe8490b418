// The admin's export page: django-import-export's "Select all" toggle names its handler
// in an onchange attribute, which the Content Security Policy refuses to run. The same
// handler (export_selectable_fields.js, loaded by the page) is bound here instead.
for (const toggle of document.querySelectorAll("input.select-toggle")) {
  toggle.removeAttribute("onchange");
  toggle.addEventListener("change", onSelectToggleChange);
}
