// Starts Redoc on the API documentation page without an inline script. Redoc inserts
// <style> elements as it draws; given this script's nonce, it marks them with it, so the
// Content Security Policy lets them apply.
const container = document.getElementById("redoc-container");
const options = JSON.parse(container.dataset.settings);
options.nonce = document.currentScript.nonce;

// Redoc's menu shows Redocly's logo from cdn.redoc.ly. This page loads nothing from
// elsewhere (the policy would refuse it and report a violation), so that address becomes
// an empty data: URL: the image fails to load, Redoc leaves it out, and the "API docs by
// Redocly" link stays. React sets an image's source both as attribute and as property.
const local = (url) => (String(url).startsWith("https://cdn.redoc.ly/") ? "data:," : url);
const source = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
Object.defineProperty(HTMLImageElement.prototype, "src", {
  ...source,
  set(url) {
    source.set.call(this, local(url));
  },
});
const setAttribute = Element.prototype.setAttribute;
Element.prototype.setAttribute = function (name, value) {
  const image = this instanceof HTMLImageElement && name === "src";
  return setAttribute.call(this, name, image ? local(value) : value);
};

Redoc.init(container.dataset.specUrl, options, container);
