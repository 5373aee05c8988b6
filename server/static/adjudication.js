// The adjudication page. A digit picks that version, Ctrl+Enter (⌘+Enter) decides, Escape
// leaves the reasoning box so digits pick again; a click anywhere on a version's card picks it.
// "A label of your own" mounts the annotation types' editors (static/editors.js): what they
// save goes into the form, not to the server, and picks that choice; after a click or focus in
// that card, keys go to its editors until a click elsewhere or Escape. The form posts as
// usual; the server decides. The item shows in its modality's viewer, and each version is
// drawn by its editor's view() (static/editors.js), its payload folded under it.
import { isTyping, mountEditors, mountViews } from "/static/editors.js";
import { mountViewer } from "/static/viewers.js";

const state = JSON.parse(document.getElementById("adjudication-state").textContent);
const form = document.querySelector("[data-decide-form]");
const chosen = document.querySelector("[data-chosen]");
const radios = [...document.querySelectorAll('input[name="annotation_id"][form="decide-form"]')];
const ownCard = document.querySelector("[data-own-label]");
const ownChoice = document.querySelector("[data-own-choice]");
const ownPayload = document.querySelector("[data-own-payload]");
const ownType = document.querySelector("[data-own-type]");

function describe() {
  if (!chosen) return;
  const picked = radios.find((radio) => radio.checked);
  if (!picked) {
    chosen.textContent = "";
  } else if (picked === ownChoice) {
    chosen.textContent = ownPayload.value ? "Your pick: your own label" : "Your pick: your own label (make it below the versions)";
  } else {
    const card = picked.closest("[data-version]");
    const summary = card.dataset.summary;
    chosen.textContent = `Your pick: version ${card.dataset.version}` + (summary ? ` (${summary})` : "");
  }
}

function pick(radio, { focus = true } = {}) {
  radio.checked = true;
  if (focus) radio.focus({ preventScroll: true });
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

let editors = null;
let ownKeys = false; // whether keys go to the own label's editors (the card was used last)

function keysToOwn(yes) {
  ownKeys = Boolean(editors) && yes;
  ownCard?.classList.toggle("keys-here", ownKeys);
}
const viewer = mountViewer({ viewer: state.viewer, item: state.item });
mountViews({ state });
if (ownCard && state.editors.length) {
  const own = state.own;
  editors = mountEditors({
    editors: state.editors,
    state,
    viewer,
    current: (name) => (own && own.annotation_type === name ? own.payload : null),
    saver: (name) => async (payload) => {
      ownPayload.value = JSON.stringify(payload);
      ownType.value = name;
      pick(ownChoice, { focus: false });
      return { ok: true, message: "" };
    },
  });
}
describe();
// Editors redraw their buttons, so the focus can fall back to the page: where the last
// click or focus landed says where keys go, not the focus alone.
document.addEventListener("pointerdown", (event) => keysToOwn(Boolean(ownCard?.contains(event.target))));
document.addEventListener("focusin", (event) => {
  if (event.target !== document.body) keysToOwn(Boolean(ownCard?.contains(event.target)));
});

document.addEventListener("keydown", (event) => {
  if (!form) return;
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    form.requestSubmit();
    return;
  }
  if (event.key === "Escape") {
    if (isTyping(event.target)) event.target.blur();
    keysToOwn(false);
    return;
  }
  if (ownKeys && !isTyping(event.target)) {
    if (editors.onKey(event)) event.preventDefault();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  const radio = radios.find((r) => r.dataset.key === event.key);
  if (radio) {
    event.preventDefault();
    pick(radio);
  }
});
