// Starts GOV.UK Frontend's components. A module script runs only in browsers that
// GOV.UK Frontend supports, so marking <body> as supported here does the job of the
// template's inline snippet without an inline script (a strict CSP stays possible).
// The library's URL comes from the page, so it is the collected (hashed) file.
const script = document.querySelector("script[data-govuk-frontend]");
document.body.classList.add("js-enabled", "govuk-frontend-supported");
import(script.dataset.govukFrontend).then(({ initAll }) => initAll());
