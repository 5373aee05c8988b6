// The item page: the editors save straight to the API; keys go to them as on the labeling
// page. Each annotation is drawn by its editor's view, again when the list is swapped in
// after a save.
import { directSaver, mountEditors, mountViews } from "/static/editors.js";

const state = JSON.parse(document.getElementById("editor-state").textContent);
const editors = mountEditors({ editors: state.editors, state, saver: directSaver(state) });
document.addEventListener("keydown", (event) => { if (editors.onKey(event)) event.preventDefault(); });
mountViews({ state });
document.body.addEventListener("htmx:afterSettle", () => mountViews({ state }));
