// The adjudication page's keys: a digit picks that version, Ctrl+Enter (⌘+Enter) decides,
// Escape leaves the reasoning box so digits pick again. A click anywhere on a version's card
// picks it too. The form posts as usual; the server does the deciding.
import { isTyping } from "/static/editors.js";

const form = document.querySelector("[data-decide-form]");
const chosen = document.querySelector("[data-chosen]");
const radios = [...document.querySelectorAll('input[name="annotation_id"][form="decide-form"]')];

function describe() {
  const picked = radios.find((radio) => radio.checked);
  const card = picked?.closest("[data-version]");
  if (!chosen) return;
  if (!card) {
    chosen.textContent = "";
    return;
  }
  const names = [...card.querySelectorAll("[data-labels] .category-chip")].map((c) => c.textContent.trim());
  chosen.textContent = `Your pick: version ${card.dataset.version}` + (names.length ? ` (${names.join(", ")})` : "");
}

function pick(radio) {
  radio.checked = true;
  radio.focus({ preventScroll: true });
  describe();
}

for (const card of document.querySelectorAll("[data-version]")) {
  card.addEventListener("click", (event) => {
    if (event.target.closest("a, summary, input")) return;
    const radio = card.querySelector('input[type="radio"]');
    if (radio) pick(radio);
  });
}
for (const radio of radios) radio.addEventListener("change", describe);
describe();

document.addEventListener("keydown", (event) => {
  if (!form) return;
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    form.requestSubmit();
    return;
  }
  if (event.key === "Escape" && isTyping(event.target)) {
    event.target.blur();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  const radio = radios.find((r) => r.dataset.key === event.key);
  if (radio) {
    event.preventDefault();
    pick(radio);
  }
});
