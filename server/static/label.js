// The labeling page. Every decision shows at once and is written to an outbox in
// localStorage before it is sent, with a stable client_op_id: a save that cannot reach the
// server (or meets a server error) is retried here, the one retry layer, and one interrupted by
// a reload or navigation is sent again on the next page (the server stores each op id once).
// A save the server refuses (4xx) is never dropped: it stays in the outbox with the server's
// reason, listed under "Not saved" on every labeling page, until the annotator retries it (once
// the cause is fixed), discards it, or saves a newer label of that item and type. Editors are
// mounted by the shared host (static/editors.js), with a save() that goes through the outbox.
// A model's suggestion shows above them (static/suggestion.js); accepting it (A) is one more
// kind of save in the outbox. The item shows in its modality's viewer (static/viewers.js),
// which also says what of the next items to fetch ahead.
import { acceptSuggestion, postJSON, submitAnnotation, withdrawAnnotation } from "/static/editor.js";
import { isTyping, mountEditors } from "/static/editors.js";
import { mountSuggestions } from "/static/suggestion.js";
import { mountViewer, preload } from "/static/viewers.js";

const state = JSON.parse(document.getElementById("label-state").textContent);
const OUTBOX = "scholia.outbox";
const REVISIONS = "scholia.revisions"; // "item:type" -> my latest revision id ("" = none)
const UNDO = "scholia.undo";
const saveState = document.querySelector("[data-save-state]");
const itemStatus = document.querySelector("[data-item-status]");
const load = (key, fallback) => JSON.parse(localStorage.getItem(key) || fallback);
const store = (key, value) => localStorage.setItem(key, JSON.stringify(value));
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- time on item, counted only while the page is visible ----------------------------------
let visibleSince = performance.now();
let spent = 0;
document.addEventListener("visibilitychange", () => {
  if (document.hidden) spent += performance.now() - visibleSince;
  else visibleSince = performance.now();
});
const timeSpent = () => Math.round(spent + (document.hidden ? 0 : performance.now() - visibleSince));

// --- the outbox -----------------------------------------------------------------------------
// Each op: { opId, kind, projectId, itemId, itemName, type, payload, … }, and once the server
// has refused it, refused: { status, message }. Refused ops are kept, but not sent again until
// the annotator asks. Saves made on this page wait for their answer (opId -> resolve), so save()
// can return it.
const answers = new Map();
const cardStatus = {}; // annotation type -> the editor card's report(text, kind)
const keyOf = (op) => `${op.itemId}:${op.type}`;
const waiting = () => load(OUTBOX, "[]").filter((op) => !op.refused);
const refusedOps = () => load(OUTBOX, "[]").filter((op) => op.refused);

// --- revisions: what my latest annotation on an item is, as far as this browser knows -------
const revisions = load(REVISIONS, "{}");
for (const [type, revision] of Object.entries(state.revisions)) {
  const key = `${state.item.id}:${type}`;
  if (!(key in revisions) || !waiting().some((op) => keyOf(op) === key)) revisions[key] = revision.id;
}
store(REVISIONS, revisions);

function enqueue(op) {
  const outbox = load(OUTBOX, "[]");
  const opId = crypto.randomUUID();
  outbox.push({ ...op, opId });
  store(OUTBOX, outbox);
  flush();
  return new Promise((resolve) => answers.set(opId, resolve));
}

function answered(op, result) {
  answers.get(op.opId)?.({ ok: result.ok, message: result.message || "" });
  answers.delete(op.opId);
  // A refusal also shows in the editor's card, next to what was refused.
  if (op.itemId === state.item.id) {
    cardStatus[op.type]?.(result.ok ? "" : `Not saved: ${result.message}`, result.ok ? "" : "error");
    if (!result.ok) refreshStatus();
  }
}

let flushing = false;
async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    let delay = 500;
    for (;;) {
      const op = waiting()[0];
      if (!op) break;
      report();
      const result = await send(op);
      if (result.retry) {
        report(`Not saved yet (${result.message}); retrying…`);
        await pause(delay);
        delay = Math.min(delay * 2, 10000);
        continue;
      }
      delay = 500;
      const outbox = load(OUTBOX, "[]");
      if (result.ok) {
        // Saved; a refused op of the same item and type is settled by this newer decision.
        store(OUTBOX, outbox.filter((o) => o.opId !== op.opId && !(o.refused && keyOf(o) === keyOf(op))));
      } else {
        const refused = { status: result.status, message: result.message };
        store(OUTBOX, outbox.map((o) => (o.opId === op.opId ? { ...o, refused } : o)));
      }
      answered(op, result);
      listRefused();
    }
  } finally {
    flushing = false;
    report();
  }
}

async function send(op) {
  const key = keyOf(op);
  const current = load(REVISIONS, "{}")[key] || null;
  let result;
  if (op.kind === "withdraw") {
    if (!current) return { ok: true };
    result = await withdrawAnnotation({ annotationId: current, clientOpId: op.opId });
  } else if (op.kind === "accept") {
    result = await acceptSuggestion({ suggestionId: op.suggestionId, supersedesId: current,
                                      timeSpentMs: op.timeSpentMs, clientOpId: op.opId });
  } else {
    result = await submitAnnotation({
      itemId: op.itemId, annotationType: op.type, payload: op.payload, supersedesId: current,
      timeSpentMs: op.timeSpentMs, clientOpId: op.opId,
    });
  }
  if (result.ok) {
    const latest = load(REVISIONS, "{}");
    latest[key] = op.kind === "withdraw" ? "" : result.annotation.id;
    store(REVISIONS, latest);
    if (op.itemId === state.item.id) {
      // What the page now starts from (undo, the suggestion card's "your label agrees").
      if (op.kind === "withdraw") delete state.revisions[op.type];
      else state.revisions[op.type] = { id: result.annotation.id, payload: result.annotation.payload };
      refreshStatus();
    }
    return { ok: true };
  }
  // Network failures and server errors are retried; a refusal (4xx) is kept with its reason.
  const retry = result.status === 0 || result.status >= 500;
  return { ok: false, retry, status: result.status, message: result.message };
}

// The status line says what the outbox holds: "All changes saved" only when nothing waits.
function report(problem = "") {
  const pending = waiting().length;
  const refused = refusedOps().length;
  const parts = [];
  if (problem) parts.push(problem);
  if (pending) parts.push(problem ? `${pending} waiting` : `Saving… (${pending} waiting)`);
  if (refused) parts.push(`${refused} not saved (see “Not saved”)`);
  if (!parts.length) return show("All changes saved", "saved");
  show(parts.join(" · "), problem || refused ? "error" : "pending");
}

// The refused ops, each with the server's reason, a link to its item, Retry and Discard.
const refusedPanel = document.querySelector("[data-refused]");
const refusedList = document.querySelector("[data-refused-list]");

function listRefused() {
  const ops = refusedOps();
  refusedPanel.hidden = !ops.length;
  refusedList.replaceChildren(...ops.map((op) => {
    const row = document.createElement("li");
    row.dataset.refusedOp = op.opId;
    const link = document.createElement("a");
    link.href = `/projects/${op.projectId ?? state.project_id}/label/${op.itemId}`;
    link.textContent = op.itemName || `Item ${op.itemId}`;
    const what = document.createElement("span");
    what.className = "muted";
    what.textContent = ` · ${op.type}${op.kind === "withdraw" ? " (taking the label back)" : ""}`;
    const reason = document.createElement("p");
    reason.className = "refused-reason";
    reason.textContent = op.refused.message;
    const buttons = document.createElement("div");
    buttons.className = "actions";
    for (const [name, act] of [["Retry", retry], ["Discard", discard]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button small";
      button.textContent = name;
      button.addEventListener("click", () => act(op.opId));
      buttons.append(button);
    }
    row.append(link, what, reason, buttons);
    return row;
  }));
}

// Retry sends the op again after the rest, under a new op id (the refused one stored nothing).
function retry(opId) {
  const outbox = load(OUTBOX, "[]");
  const op = outbox.find((o) => o.opId === opId);
  if (op) {
    const { refused: _, ...again } = op;
    store(OUTBOX, [...outbox.filter((o) => o.opId !== opId), { ...again, opId: crypto.randomUUID() }]);
    if (op.itemId === state.item.id) cardStatus[op.type]?.("", "");
  }
  listRefused();
  flush();
}

// Discard lets the op go, by the annotator's own decision; the editor shows what is stored.
function discard(opId) {
  const op = load(OUTBOX, "[]").find((o) => o.opId === opId);
  store(OUTBOX, load(OUTBOX, "[]").filter((o) => o.opId !== opId));
  if (op && op.itemId === state.item.id) {
    cardStatus[op.type]?.("", "");
    editors.show(op.type, pendingPayload(op.type));
  }
  listRefused();
  report();
}

async function refreshStatus() {
  const response = await fetch(`/api/v1/items/${state.item.id}`);
  if (!response.ok) return;
  const item = await response.json();
  itemStatus.textContent = item.status.replace("_", " ");
  itemStatus.className = `badge ${item.status}`;
}

function show(text, kind) {
  saveState.textContent = text;
  saveState.dataset.state = kind;
}

// --- decisions, undo, navigation ------------------------------------------------------------
/** My payload of ``type`` on this item as it will stand once the outbox is sent (null: none). */
function pendingPayload(type) {
  const ops = waiting().filter((o) => o.itemId === state.item.id && o.type === type);
  const last = ops[ops.length - 1];
  if (last) return last.kind === "withdraw" ? null : last.payload;
  const revision = state.revisions[type];
  return revision ? revision.payload : null;
}

// A save (by hand or by accepting a suggestion) can be undone: the payload it replaced is kept.
function decide(op, { advance = false } = {}) {
  const undo = load(UNDO, "[]");
  undo.push({ itemId: state.item.id, type: op.type, before: pendingPayload(op.type) });
  store(UNDO, undo.slice(-50));
  const answer = enqueue({ ...op, projectId: state.project_id, itemId: state.item.id,
                           itemName: state.item.name, timeSpentMs: timeSpent() });
  if (op.kind !== "withdraw") {
    itemStatus.textContent = "done";
    itemStatus.className = "badge done";
  }
  if (advance || (heldBack && op.kind !== "withdraw")) moveOn(answer);
  return answer;
}

// After a label the page moves on only once every editor on the item has one: until then the
// keyboard goes to the first editor still without a label, and the move waits for the label
// that completes the item, whichever editor gives it (→ moves on regardless).
let heldBack = false;
function moveOn(answer) {
  const mounted = state.editors.map((e) => e.name)
    .filter((name) => document.querySelector(`[data-editor-root="${CSS.escape(name)}"][data-editor-mounted]`));
  const missing = mounted.find((name) => pendingPayload(name) === null);
  heldBack = Boolean(missing);
  if (missing) {
    editors.activate(missing);
    cardStatus[missing]?.("Still to do on this item", "pending");
    return;
  }
  setTimeout(() => nextToDo(answer), 120);
}

// The next item still to do in my queue (never one already done); with none held, the queue
// claims more, once this label is stored (else the claim would hand back this very item).
async function nextToDo(answer) {
  const known = load(REVISIONS, "{}");
  const doneHere = (id) => waiting().some((o) => o.itemId === id) ||
    Object.entries(known).some(([key, revision]) => revision && key.startsWith(`${id}:`));
  if (state.next_todo && !doneHere(state.next_todo)) {
    return location.assign(`/projects/${state.project_id}/label/${state.next_todo}${state.query}`);
  }
  await Promise.race([answer, pause(2000)]);
  location.assign(`/projects/${state.project_id}/label${state.query}`);
}

function saver(type, report) {
  cardStatus[type] = report;
  return (payload, { advance = false } = {}) => {
    if (payload === null) return decide({ kind: "withdraw", type });
    // Anti-anchoring: the first label stays on the item, so the suggestion it revealed can be
    // compared with it (and taken with A, or left with →).
    const hidden = suggestions.waiting(type);
    if (hidden) heldBack = false;
    const answer = decide({ kind: "annotate", type, payload }, { advance: advance && !hidden });
    // Whether the label agrees with a suggestion shown is the type's to say: ask again.
    answer.then((result) => (result.ok && (hidden || suggestions.visible(type)) ? reveal() : suggestions.render()));
    return answer;
  };
}

// --- the model's suggestions ------------------------------------------------------------------
async function reveal() {
  const response = await fetch(`/api/v1/items/${state.item.id}/suggestions`);
  if (!response.ok) return show("The model's suggestion could not be loaded; reload the page", "error");
  suggestions.reveal(await response.json());
}

// A takes the suggestion of the highlighted editor's type, else the first one shown.
function acceptKey() {
  const active = document.querySelector(".editor-active[data-editor-root]")?.dataset.editorRoot;
  const types = suggestions.types();
  const type = [active, ...types].find((t) => t && suggestions.visible(t));
  if (type) return accept(suggestions.visible(type));
  if (types.some((t) => suggestions.waiting(t))) {
    return show("The model's suggestion shows after your own first label", "info");
  }
  show("No suggestion for this item", "info");
}

function accept(suggestion) {
  const type = suggestion.annotation_type;
  editors.show(type, suggestion.payload);
  suggestions.decided(type, "accepted");
  return decide({ kind: "accept", type, suggestionId: suggestion.id, payload: suggestion.payload },
                { advance: true });
}

/** Draw a payload with its editor's view() into node (a suggestion, say); else leave node. */
async function drawPayload(type, payload, node) {
  const module = state.editors.find((editor) => editor.name === type)?.module;
  if (!module) return;
  try {
    const editor = await import(module);
    if (typeof editor.view !== "function") return;
    const drawn = document.createElement("span");
    editor.view({ root: drawn, payload, categories: state.categories, item: state.item });
    node.replaceChildren(drawn);
  } catch (error) {
    console.error(`Scholia: the view of "${type}" failed`, error);
  }
}

async function dismiss(suggestion) {
  const result = await postJSON(`/api/v1/suggestions/${suggestion.id}/dismiss`, {});
  if (!result.ok) return show(`Not dismissed: ${result.message}`, "error");
  suggestions.decided(suggestion.annotation_type, result.annotation.outcome);
}

async function undoLast() {
  const undo = load(UNDO, "[]");
  const last = undo.pop();
  store(UNDO, undo);
  if (!last) return show("Nothing to undo", "saved");
  const op = { projectId: state.project_id, itemId: last.itemId, type: last.type };
  const undone = last.before === null
    ? enqueue({ ...op, kind: "withdraw" })
    : enqueue({ ...op, kind: "annotate", payload: last.before });
  if (last.itemId !== state.item.id) {
    // Go back once the undo is saved (or after a moment, offline: the outbox keeps it), so
    // the item's page is rendered with it and does not show the label just undone.
    await Promise.race([undone, pause(2000)]);
    location.assign(`/projects/${state.project_id}/label/${last.itemId}${state.query}`);
    return;
  }
  editors.show(last.type, last.before);
  show("Undone", "saved");
}

// Navigation follows the queue as filtered (state.query keeps ?queue=… on every link).
function next() {
  if (state.next) return location.assign(`/projects/${state.project_id}/label/${state.next}${state.query}`);
  // Past the end: the whole queue and "to do" claim more work; "done" and "skipped" have no more.
  if (state.queue === "all" || state.queue === "todo") {
    return location.assign(`/projects/${state.project_id}/label${state.query}`);
  }
  show("This is the last item in the queue shown", "saved");
}

function previous() {
  if (state.previous) location.assign(`/projects/${state.project_id}/label/${state.previous}${state.query}`);
}

async function skip() {
  const result = await postJSON(`/api/v1/items/${state.item.id}/skip`, {});
  if (!result.ok) return show(`Not skipped: ${result.message}`, "error");
  next();
}

// --- keys -------------------------------------------------------------------------------------
const help = document.querySelector("[data-help]");
const actions = { prev: previous, next, skip, undo: undoLast,
                  help: () => (help.open ? help.close() : help.showModal()) };
for (const button of document.querySelectorAll("[data-action]")) {
  button.addEventListener("click", () => actions[button.dataset.action]());
}
document.addEventListener("keydown", (event) => {
  if (editors.onKey(event)) return event.preventDefault();
  if (isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (viewerKeys?.onKey?.(event)) return event.preventDefault();
  const key = event.key;
  const handler = { ArrowRight: next, ArrowLeft: previous, s: skip, S: skip, z: undoLast, Z: undoLast,
                    a: acceptKey, A: acceptKey,
                    "?": actions.help }[key];
  if (handler) { event.preventDefault(); handler(); }
});

// --- start: take the item up, mount the editors, preload, send anything left from before ----
// Opening the item claims nothing; this POST claims its slot (or renews the claim's lease) and
// holds the next items. A refusal (all slots taken, calibration not passed) shows on a save.
// When it held more than the page shows (an item opened by its URL, or the queue topped up),
// the queue panel and the links are drawn again from the page as it now is (a GET).
async function takeUp() {
  const url = `/api/v1/projects/${state.project_id}/queue/${state.item.id}/claim${state.query}`;
  const result = await postJSON(url, { ahead: state.ahead });
  if (!result.ok) return;
  const held = result.annotation.queue.items.map((entry) => String(entry.id));
  const shown = [...document.querySelectorAll("[data-queue-item]")].map((a) => a.dataset.queueItem);
  if (held.join() === shown.join()) return;
  const response = await fetch(location.href);
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const panel = fresh.querySelector(".label-queue");
  if (panel) document.querySelector(".label-queue").replaceWith(panel);
  const now = JSON.parse(fresh.getElementById("label-state").textContent);
  for (const key of ["previous", "next", "next_todo"]) state[key] = now[key];
  const known = new Set(state.preload.map((item) => item.id));
  preload({ viewer: state.viewer, items: now.preload.filter((item) => !known.has(item.id)) });
}
takeUp();
const suggestions = mountSuggestions({
  root: document.querySelector("[data-suggestions]"), suggestions: state.suggestions,
  mine: pendingPayload, draw: drawPayload, accept, dismiss,
});
const viewer = mountViewer({ viewer: state.viewer, item: state.item });
let viewerKeys = null;
viewer.then((api) => { viewerKeys = api; });
const editors = mountEditors({ editors: state.editors, state, saver, current: pendingPayload, viewer });
preload({ viewer: state.viewer, items: state.preload });
listRefused();
// Refusals on this item show in their editors' cards too, as when they were answered.
editors.ready.then(() => {
  for (const op of refusedOps()) {
    if (op.itemId === state.item.id) cardStatus[op.type]?.(`Not saved: ${op.refused.message}`, "error");
  }
});
flush();
