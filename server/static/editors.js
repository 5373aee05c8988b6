// Scholia's editor host: mounts each annotation type's editor in its card and routes the
// keyboard to them. The labeling page and the item page both use it; they differ only in how a
// payload is saved (the labeling page's outbox, the item page's direct save below).
//
// The one contract an editor module follows (examples/rating is a complete one to copy):
//
//   export function mount({ root, item, categories, options, current, save, viewer }) {
//     // wire the markup inside root, show `current`
//     return { onKey(event) { return handled; }, show(payload) { … } };
//   }
//   export function view({ root, payload, categories, item }) { … }   // optional
//
//   root        the editor's card: the element with data-editor-root="<annotation type>"
//   item        the item on the page: { id, name, status, media, media_type, meta }; media is
//               its signed URL and meta what its modality probed (a video's fps, duration_ms,
//               frame_count, width, height), for editors that show the media themselves.
//   viewer      what the viewer of the item's modality gives its editors to draw on (see
//               static/viewers.js and register_viewers; the image viewer: { stage, overlay,
//               image, zoom(kind), scale() }), or null where the page has no viewer (a modality
//               without one: the editor shows the media itself, or a page with no item shown).
//               An item made of parts (a text record, a sensor frame) also has parts: each
//               { role, media_type, meta, data (inline) or media_url (a file) }.
//   categories  the project's live categories in display order: { id, name, color, hotkey }
//   options     the project's options for this annotation type ({} when it has none)
//   current     this annotator's current payload on the item, or null
//   save(payload, { advance })  stores a payload and returns a Promise of { ok, message }; the
//               host shows the outcome in the card's [data-editor-status] element (the template
//               may place one; otherwise one is added at the end of the card). save(null) takes
//               my label on the item back (a withdrawal: the item is mine to do again), as when
//               the last category of a multi-label is unticked. `advance` asks the labeling page
//               to go on to the next item, which it does once every editor on the item has a
//               label (else the keyboard goes to the first editor still without one).
//   onKey(event)  receives keydown events (never those typed into a text field) and returns true
//               when it used the key; the host then prevents the browser's default.
//   show(payload) redraws the editor with another payload (after an undo).
//   destroy()   optional: let go of anything outside root (listeners on window, timers), as
//               the labeling page opens the next item in place and drops this one's markup.
//   view()      draws one saved payload, read-only, into root (an empty element; see mountViews
//               below): the item page shows it for each annotation of the type, where reviewers
//               look at what the annotators drew, with the raw JSON folded under it. Without
//               view() the page shows the JSON alone; if view() throws, the JSON stays as it was.
//
// Keys go to the active editor: the one last clicked or focused, or picked with Tab when the
// page has two or more.
import { submitAnnotation, withdrawAnnotation } from "/static/editor.js";

const NOT_TYPING = new Set(["button", "checkbox", "color", "file", "radio", "range", "reset", "submit"]);

/** Whether a key event's target takes text, so its keys belong to the field, not the page. */
export function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.closest("textarea, select, [contenteditable=''], [contenteditable=true]")) return true;
  return target instanceof HTMLInputElement && !NOT_TYPING.has(target.type);
}

/**
 * Mount the editors listed in the page's state ({ name, module } each) and return
 * { onKey(event) -> bool, show(name, payload), activate(name), ready, destroy() }.
 * saver(name, report) returns that editor's save(payload, options); report(text, kind) writes
 * to the editor's status line (kind: "pending", "saved", "error" or "" to clear it).
 * current(name) is the payload an editor starts with (default: my revision in the state).
 * viewer is the page's viewer (what static/viewers.js mountViewer gives, or a Promise of it),
 * handed to each editor; rootOf(name) finds an editor's card (default: the page's
 * [data-editor-root="<name>"]; another for a second editor of a type, as the item page's gold
 * form mounts); remember=false leaves the active editor of the project alone (for editors that
 * are not the page's own).
 */
export function mountEditors({ editors, state, saver, current = (name) => state.revisions[name]?.payload ?? null,
                              viewer = null, remember = true,
                              rootOf = (name) => document.querySelector(`[data-editor-root="${CSS.escape(name)}"]`) }) {
  const roots = new Map();
  for (const { name } of editors) {
    const root = rootOf(name);
    if (root) roots.set(name, root);
  }
  const names = [...roots.keys()];
  const apis = new Map();
  // The active editor is remembered for the project, so it stays picked from item to item.
  const memory = `scholia.activeEditor.${state.project_id}`;
  let active = remember && names.includes(sessionStorage.getItem(memory)) ? sessionStorage.getItem(memory) : names[0];

  function activate(name, { focus = false } = {}) {
    active = name;
    if (remember) sessionStorage.setItem(memory, name);
    // With a single editor there is nothing to choose between, so no highlight.
    for (const [each, root] of roots) root.classList.toggle("editor-active", names.length > 1 && each === name);
    // Focus follows, so Enter or Space never presses a button left focused in the other card.
    if (focus) roots.get(name).focus({ preventScroll: true });
  }

  function reporter(root) {
    let output = root.querySelector("[data-editor-status]");
    if (!output) {
      output = document.createElement("output");
      output.className = "editor-status";
      output.dataset.editorStatus = "";
      output.setAttribute("aria-live", "polite");
      root.append(output);
    }
    return (text, kind = "") => {
      output.textContent = text;
      output.dataset.state = kind;
    };
  }

  function problem(name, text, error) {
    console.error(`Scholia: the editor for "${name}" cannot be used: ${text}`, error ?? "");
    const note = document.createElement("p");
    note.className = "flash warn editor-problem";
    note.dataset.editorProblem = "";
    note.textContent = `This editor cannot be used: ${text}`;
    roots.get(name).append(note);
  }

  async function mountOne({ name, module }) {
    const root = roots.get(name);
    let editor;
    try {
      editor = await import(module);
    } catch (error) {
      return problem(name, `its module ${module} failed to load (${error.message}).`, error);
    }
    if (typeof editor.mount !== "function") {
      return problem(name, `its module ${module} does not export mount(); the plugin needs updating ` +
                           "to Scholia's editor contract (see static/editors.js).");
    }
    try {
      const api = editor.mount({
        root, item: state.item, categories: state.categories, options: (state.options || {})[name] || {},
        current: current(name), save: saver(name, reporter(root)), viewer: (await viewer) ?? null,
      });
      apis.set(name, api || {});
      root.dataset.editorMounted = "";
    } catch (error) {
      problem(name, `mount() failed: ${error.message}`, error);
    }
  }

  for (const [name, root] of roots) {
    root.addEventListener("pointerdown", () => activate(name));
    root.addEventListener("focusin", () => activate(name));
  }
  if (active) activate(active);
  const ready = Promise.all(editors.filter(({ name }) => roots.has(name)).map(mountOne));

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return false;
    // A closed dialog (the keys help) can keep the focus on its button for a moment after it
    // closes: keys there belong to the page, as if the focus were on the body.
    const leftBehind = Boolean(event.target.closest?.("dialog:not([open])"));
    if (event.key === "Tab") {
      // Tab picks the next editor while the keyboard is on the page or in an editor card;
      // elsewhere (toolbar, queue links) it moves the focus as usual.
      const onPage = event.target === document.body || leftBehind ||
        event.target.closest?.("[data-editor-root]");
      if (names.length < 2 || !onPage) return false;
      const step = event.shiftKey ? names.length - 1 : 1;
      activate(names[(names.indexOf(active) + step) % names.length], { focus: true });
      return true;
    }
    // Enter or Space on a focused button or link is that control's, as in any page.
    if ((event.key === "Enter" || event.key === " ") && !leftBehind &&
        event.target.closest?.("button, a, summary")) return false;
    // Only the active editor hears keys, so a digit never lands in a card the annotator is not
    // looking at; if that editor could not be mounted, the others hear them.
    const listening = apis.has(active) ? [active] : names;
    return listening.some((name) => apis.get(name)?.onKey?.(event) === true);
  }

  // Editors mounted after destroy() (their module was still loading) are let go at once.
  let destroyed = false;
  function destroy() {
    destroyed = true;
    for (const [name, api] of apis) {
      try {
        api.destroy?.();
      } catch (error) {
        console.error(`Scholia: the editor for "${name}" failed to let go`, error);
      }
    }
  }
  ready.then(() => destroyed && destroy());

  return {
    onKey,
    show: (name, payload) => apis.get(name)?.show?.(payload),
    activate: (name) => roots.has(name) && activate(name, { focus: true }),
    ready,
    destroy,
  };
}

/**
 * Draw the read-only view of each saved annotation under scope. The page marks where each one
 * goes with a <template data-annotation-view="<annotation type>" data-payload="<JSON>"> that
 * holds the markup to add (a table row, say) with one [data-annotation-view-root] in it (and,
 * on a page of several items, data-item="<JSON>": the item the view is given). When
 * the type's module exports view(), that markup is added right after the template and the view
 * drawn into its root; the annotation's raw JSON (the [data-annotation-json] of the element
 * data-annotation="<id>" named by the template's data-annotation-for) folds under "Payload"
 * (or, already in a <details>, that one closes), and the owner's [data-view-fallback] elements
 * (what the page shows of a payload without a view: its categories, say) are hidden.
 * Templates already used are left alone, so this runs again after a fragment is swapped in.
 */
export async function mountViews({ state, scope = document }) {
  const modules = new Map((state.editors || []).map(({ name, module }) => [name, module]));
  const marks = [...scope.querySelectorAll("template[data-annotation-view]:not([data-view-mounted])")];
  await Promise.all(marks.map(async (mark) => {
    mark.dataset.viewMounted = "";
    const name = mark.dataset.annotationView;
    const module = modules.get(name);
    if (!module) return;
    let editor;
    try {
      editor = await import(module);
    } catch (error) {
      return console.error(`Scholia: no view for "${name}": ${module} failed to load`, error);
    }
    if (typeof editor.view !== "function") return;
    const markup = mark.content.cloneNode(true);
    const root = markup.querySelector("[data-annotation-view-root]");
    const added = [...markup.children];
    mark.after(markup);
    try {
      const item = mark.dataset.item ? JSON.parse(mark.dataset.item) : state.item;
      editor.view({ root, payload: JSON.parse(mark.dataset.payload), categories: state.categories, item });
    } catch (error) {
      for (const node of added) node.remove();
      return console.error(`Scholia: the view of "${name}" failed`, error);
    }
    root.dataset.annotationView = name;
    const owner = document.querySelector(`[data-annotation="${CSS.escape(mark.dataset.annotationFor || "")}"]`);
    for (const fallback of owner?.querySelectorAll("[data-view-fallback]") || []) fallback.hidden = true;
    const json = owner?.querySelector("[data-annotation-json]");
    const folded = json?.closest("details");
    if (folded) folded.open = false;
    if (json && !folded) {
      const fold = document.createElement("details");
      fold.className = "annotation-json";
      const summary = document.createElement("summary");
      summary.textContent = "Payload";
      json.replaceWith(fold);
      fold.append(summary, json);
    }
  }));
}

/**
 * The item page's saver: each save goes straight to the API and supersedes my revision before
 * it (save(null) withdraws it); saves of one type run one after another, so a quick second save
 * corrects the first instead of racing it. The outcome shows in the card, and the save is
 * announced with the scholia:annotation-saved event that refreshes the rest of the page.
 */
export function directSaver(state) {
  const started = performance.now();
  const revisions = Object.fromEntries(Object.entries(state.revisions).map(([name, r]) => [name, r.id]));
  const queues = {};
  return (name, report) => (payload) => {
    const store = async () => {
      report("Saving…", "pending");
      let result;
      if (payload !== null) {
        result = await submitAnnotation({
          itemId: state.item.id, annotationType: name, payload, supersedesId: revisions[name] || null,
          timeSpentMs: Math.round(performance.now() - started),
        });
      } else {
        result = revisions[name] ? await withdrawAnnotation({ annotationId: revisions[name] }) : { ok: true };
      }
      if (result.ok) revisions[name] = payload === null ? null : result.annotation.id;
      const failed = result.status === 0 ? "Could not reach the server; your input is kept, save again." : result.message;
      report(result.ok ? "Saved." : failed, result.ok ? "saved" : "error");
      return result;
    };
    queues[name] = (queues[name] || Promise.resolve()).then(store, store);
    return queues[name];
  };
}
