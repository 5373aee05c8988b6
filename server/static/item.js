// The item page: the item in its modality's viewer, the editors saving straight to the API;
// keys go to them (then to the viewer) as on the labeling page. Each annotation is drawn by
// its editor's view, again when the list is swapped in after a save; a gold form mounts the
// type's editor to make the expected answer.
import { directSaver, isTyping, mountEditors, mountViews } from "/static/editors.js";
import { mountViewer } from "/static/viewers.js";

const state = JSON.parse(document.getElementById("editor-state").textContent);
const viewer = mountViewer({ viewer: state.viewer, item: state.item });
let viewerKeys = null;
viewer.then((api) => { viewerKeys = api; });
const editors = mountEditors({ editors: state.editors, state, saver: directSaver(state), viewer });
document.addEventListener("keydown", (event) => {
  if (editors.onKey(event)) return event.preventDefault();
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  if (viewerKeys?.onKey?.(event)) event.preventDefault();
});
mountViews({ state });
document.body.addEventListener("htmx:afterSettle", () => mountViews({ state }));


// The gold forms (QA roles): opening one mounts the type's editor (from its <template>) to make
// the expected answer, which goes into the form's payload field (its JSON stays editable under
// the disclosure) instead of to the server.
for (const mark of document.querySelectorAll("[data-gold-mark]")) {
  const name = mark.dataset.goldMark;
  const holder = mark.querySelector("[data-gold-editor]");
  const markup = holder?.querySelector("template[data-gold-editor-markup]");
  const field = mark.querySelector("[data-gold-payload]");
  const own = state.editors.filter((editor) => editor.name === name);
  if (!own.length || !markup || !field) continue;
  let started = false; // mounting is async: the guard is set before it starts
  const mount = () => {
    if (!mark.open || started) return;
    started = true;
    holder.append(markup.content.cloneNode(true));
    mountEditors({
      editors: own, state, rootOf: () => holder, remember: false, viewer,
      current: () => (field.value.trim() ? JSON.parse(field.value) : null), // the answer it has
      saver: () => async (payload) => {
        field.value = payload === null ? "" : JSON.stringify(payload);
        return { ok: true, message: "" };
      },
    });
  };
  mark.addEventListener("toggle", mount);
  mount(); // opened before this module ran (a quick click while the page loads)
}
