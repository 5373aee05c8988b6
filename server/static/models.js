// Retire asks first.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
// The register form follows the chosen backend: its annotation types, file or URL, and its
// default config (replaced only while nobody has edited it).
const backend = document.querySelector("[data-backend-select]");
if (backend) {
  const form = backend.form;
  const types = form.querySelector("[data-type-select]");
  const config = form.querySelector("[data-config-text]");
  let defaults = backend.selectedOptions[0].dataset.config;
  backend.addEventListener("change", () => {
    const option = backend.selectedOptions[0];
    types.replaceChildren(...JSON.parse(option.dataset.types).map((t) => new Option(t.replaceAll("_", " "), t)));
    for (const block of form.querySelectorAll("[data-source]")) {
      const on = block.dataset.source === option.dataset.sourceKind;
      block.hidden = !on;
      for (const input of block.querySelectorAll("[data-source-text]")) input.disabled = !on;
    }
    if (config.value.trim() === defaults.trim()) config.value = option.dataset.config;
    defaults = option.dataset.config;
  });
}
