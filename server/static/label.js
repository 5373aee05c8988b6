// The labeling page. Every decision shows at once and is written to an outbox in
// localStorage before it is sent, with a stable client_op_id: a save that fails is retried,
// and one interrupted by a reload or navigation is sent again on the next page (the server
// stores each op id once), so no label is lost. Editors are mounted by the shared host
// (static/editors.js), with a save() that goes through the outbox. A model's suggestion shows
// above them (static/suggestion.js); accepting it (A) is one more kind of save in the outbox.
import { csrfHeaders, submitAnnotation } from "/static/editor.js";
import { isTyping, mountEditors } from "/static/editors.js";
import { mountSuggestions } from "/static/suggestion.js";

const state = JSON.parse(document.getElementById("label-state").textContent);
const OUTBOX = "scholia.outbox";
const REVISIONS = "scholia.revisions"; // "item:type" -> my latest revision id ("" = none)
const UNDO = "scholia.undo";
const saveState = document.querySelector("[data-save-state]");
const itemStatus = document.querySelector("[data-item-status]");
const load = (key, fallback) => JSON.parse(localStorage.getItem(key) || fallback);
const store = (key, value) => localStorage.setItem(key, JSON.stringify(value));

// --- time on item, counted only while the page is visible ----------------------------------
let visibleSince = performance.now();
let spent = 0;
document.addEventListener("visibilitychange", () => {
  if (document.hidden) spent += performance.now() - visibleSince;
  else visibleSince = performance.now();
});
const timeSpent = () => Math.round(spent + (document.hidden ? 0 : performance.now() - visibleSince));

// --- revisions: what my latest annotation on an item is, as far as this browser knows -------
const revisions = load(REVISIONS, "{}");
for (const [type, revision] of Object.entries(state.revisions)) {
  const key = `${state.item.id}:${type}`;
  if (!(key in revisions) || !hasPending(key)) revisions[key] = revision.id;
}
store(REVISIONS, revisions);

function hasPending(key) {
  return load(OUTBOX, "[]").some((op) => `${op.itemId}:${op.type}` === key);
}

// --- the outbox -----------------------------------------------------------------------------
// Saves made on this page wait for their answer here (opId -> resolve), so save() can return it.
const answers = new Map();
const cardStatus = {}; // annotation type -> the editor card's report(text, kind)

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
  // A refusal also shows in the editor's card, next to what was refused, until the next save.
  if (op.itemId === state.item.id) {
    cardStatus[op.type]?.(result.ok ? "" : `Not saved: ${result.message}`, result.ok ? "" : "error");
  }
}

let flushing = false;
async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    let delay = 500;
    for (;;) {
      const outbox = load(OUTBOX, "[]");
      if (!outbox.length) break;
      show("Saving…", "pending");
      const op = outbox[0];
      const result = await send(op);
      if (result.retry) {
        show(`Not saved yet (${result.message}); retrying…`, "error");
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 10000);
        continue;
      }
      store(OUTBOX, load(OUTBOX, "[]").filter((o) => o.opId !== op.opId));
      answered(op, result);
      if (!result.ok) {
        show(`Not saved: ${result.message}`, "error");
        continue;
      }
      delay = 500;
    }
    if (saveState.dataset.state !== "error") show("All changes saved", "saved");
  } finally {
    flushing = false;
  }
}

async function send(op) {
  const key = `${op.itemId}:${op.type}`;
  const current = load(REVISIONS, "{}")[key] || null;
  let result;
  if (op.kind === "withdraw") {
    if (!current) return { ok: true };
    result = await post(`/api/v1/annotations/${current}/withdraw`, { client_op_id: op.opId });
  } else if (op.kind === "accept") {
    result = await post(`/api/v1/suggestions/${op.suggestionId}/accept`, {
      client_op_id: op.opId, supersedes_id: current, time_spent_ms: op.timeSpentMs,
    });
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
  // Network failures and server errors are retried; a refusal (4xx) is shown and dropped.
  const retry = result.status === 0 || result.status >= 500;
  return { ok: false, retry, message: result.message };
}

async function post(url, body) {
  try {
    const response = await fetch(url, { method: "POST", headers: csrfHeaders(),
                                        body: JSON.stringify(body), keepalive: true });
    const data = await response.json().catch(() => ({}));
    if (response.ok) return { ok: true, annotation: data };
    return { ok: false, status: response.status, message: (data.error || {}).message || response.statusText };
  } catch {
    return { ok: false, status: 0, message: "the server cannot be reached" };
  }
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
function pendingPayload(type) {
  const ops = load(OUTBOX, "[]").filter((o) => o.itemId === state.item.id && o.type === type);
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
  const answer = enqueue({ ...op, itemId: state.item.id, timeSpentMs: timeSpent() });
  itemStatus.textContent = "done";
  itemStatus.className = "badge done";
  if (advance) setTimeout(next, 120);
  return answer;
}

function saver(type, report) {
  cardStatus[type] = report;
  return (payload, { advance = false } = {}) => {
    // Anti-anchoring: the first label stays on the item, so the suggestion it revealed can be
    // compared with it (and taken with A, or left with →).
    const waiting = suggestions.waiting(type);
    const answer = decide({ kind: "annotate", type, payload }, { advance: advance && !waiting });
    answer.then((result) => (result.ok && waiting ? reveal() : suggestions.render()));
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

async function dismiss(suggestion) {
  const result = await post(`/api/v1/suggestions/${suggestion.id}/dismiss`, {});
  if (!result.ok) return show(`Not dismissed: ${result.message}`, "error");
  suggestions.decided(suggestion.annotation_type, result.annotation.outcome);
}

async function undoLast() {
  const undo = load(UNDO, "[]");
  const last = undo.pop();
  store(UNDO, undo);
  if (!last) return show("Nothing to undo", "saved");
  const undone = last.before === null
    ? enqueue({ kind: "withdraw", itemId: last.itemId, type: last.type })
    : enqueue({ kind: "annotate", itemId: last.itemId, type: last.type, payload: last.before });
  if (last.itemId !== state.item.id) {
    // Go back once the undo is saved (or after a moment, offline: the outbox keeps it), so
    // the item's page is rendered with it and does not show the label just undone.
    await Promise.race([undone, new Promise((resolve) => setTimeout(resolve, 2000))]);
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
  const result = await post(`/api/v1/items/${state.item.id}/skip`, {});
  if (!result.ok) return show(`Not skipped: ${result.message}`, "error");
  next();
}

// --- the viewer: fit, zoom, pan ---------------------------------------------------------------
const viewer = document.querySelector("[data-viewer]");
const stage = document.querySelector("[data-stage]");
let zoom = 1, panX = 0, panY = 0;
const place = () => { stage.style.transform = `translate(${panX}px, ${panY}px) scale(${zoom})`; };
function setZoom(kind) {
  if (kind === "fit") { zoom = 1; panX = 0; panY = 0; }
  else zoom = Math.min(8, Math.max(0.25, zoom * (kind === "in" ? 1.25 : 0.8)));
  place();
}
viewer.addEventListener("wheel", (event) => { event.preventDefault(); setZoom(event.deltaY < 0 ? "in" : "out"); },
                        { passive: false });
viewer.addEventListener("pointerdown", (event) => {
  const start = { x: event.clientX - panX, y: event.clientY - panY };
  const move = (e) => { panX = e.clientX - start.x; panY = e.clientY - start.y; place(); };
  viewer.addEventListener("pointermove", move);
  viewer.addEventListener("pointerup", () => viewer.removeEventListener("pointermove", move), { once: true });
});
for (const button of document.querySelectorAll("[data-zoom]")) {
  button.addEventListener("click", () => setZoom(button.dataset.zoom));
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
  const key = event.key;
  const handler = { ArrowRight: next, ArrowLeft: previous, s: skip, S: skip, z: undoLast, Z: undoLast,
                    a: acceptKey, A: acceptKey,
                    "?": actions.help, 0: () => setZoom("fit"), "+": () => setZoom("in"),
                    "=": () => setZoom("in"), "-": () => setZoom("out") }[key];
  if (handler) { event.preventDefault(); handler(); }
});

// --- start: mount the editors, preload what comes next, send anything left from before ------
const suggestions = mountSuggestions({
  root: document.querySelector("[data-suggestions]"), suggestions: state.suggestions,
  categories: state.categories, mine: pendingPayload, accept, dismiss,
});
const editors = mountEditors({ editors: state.editors, state, saver, current: pendingPayload });
for (const url of state.preload) new Image().src = url;
flush();
