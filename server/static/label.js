// The labeling page. It opens items in place: the pages of the next items held in the queue
// are fetched ahead (a GET claims nothing) with their media, and moving on swaps the page's
// content for the next one's and records it in the history (pushState), so back, forward and
// reload land on the item shown. Every decision shows at once and is written to an outbox in
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

let state = JSON.parse(document.getElementById("label-state").textContent);
const OUTBOX = "scholia.outbox";
const REVISIONS = "scholia.revisions"; // "item:type" -> my latest revision id ("" = none)
const UNDO = "scholia.undo";
// Within the part of the page swapped from item to item: looked up each time.
const saveState = () => document.querySelector("[data-save-state]");
const itemStatus = () => document.querySelector("[data-item-status]");
const load = (key, fallback) => JSON.parse(localStorage.getItem(key) || fallback);
const store = (key, value) => localStorage.setItem(key, JSON.stringify(value));
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- time on item, counted only while the page is visible (reset when an item opens) --------
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
// Each page of an item says my revisions on it, so only recent items need remembering: the
// oldest are let go, or a day's work would slow every save that reads them.
const REMEMBERED = 1000;
function learnRevisions() {
  let revisions = load(REVISIONS, "{}");
  for (const [type, revision] of Object.entries(state.revisions)) {
    const key = `${state.item.id}:${type}`;
    if (!(key in revisions) || !waiting().some((op) => keyOf(op) === key)) revisions[key] = revision.id;
  }
  const keys = Object.keys(revisions);
  if (keys.length > REMEMBERED) {
    const held = new Set(load(OUTBOX, "[]").map(keyOf));
    revisions = Object.fromEntries(Object.entries(revisions)
      .filter(([key], index) => index >= keys.length - REMEMBERED || held.has(key)));
  }
  store(REVISIONS, revisions);
}

function enqueue(op) {
  const outbox = load(OUTBOX, "[]");
  const opId = crypto.randomUUID();
  outbox.push({ ...op, opId });
  store(OUTBOX, outbox);
  ahead.delete(op.itemId); // a page fetched before this decision would not show it
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
function listRefused() {
  const refusedPanel = document.querySelector("[data-refused]");
  const refusedList = document.querySelector("[data-refused-list]");
  const ops = refusedOps();
  refusedPanel.hidden = !ops.length;
  refusedList.replaceChildren(...ops.map((op) => {
    const row = document.createElement("li");
    row.dataset.refusedOp = op.opId;
    const link = document.createElement("a");
    link.href = `/projects/${op.projectId ?? state.project_id}/label/${op.itemId}`;
    if ((op.projectId ?? state.project_id) === state.project_id) link.dataset.openItem = op.itemId;
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
  const id = state.item.id;
  const response = await fetch(`/api/v1/items/${id}`);
  if (!response.ok || id !== state.item.id) return;
  const item = await response.json();
  itemStatus().textContent = item.status.replace("_", " ");
  itemStatus().className = `badge ${item.status}`;
}

function show(text, kind) {
  saveState().textContent = text;
  saveState().dataset.state = kind;
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
    itemStatus().textContent = "done";
    itemStatus().className = "badge done";
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
  nextToDo(answer);
}

// The next item still to do in my queue (never one already done); with none held, the queue
// claims more, once this label is stored (else the claim would hand back this very item).
async function nextToDo(answer) {
  const target = moveTarget();
  if (target) return open(target);
  await Promise.race([answer, pause(2000)]);
  return takeNext();
}

/** The held item a label moves on to: the server's next to do, unless this browser has just
 * labeled it (the server may not have stored that label when it answered), then the other
 * held items to do, after this one first; null when none is left. */
function moveTarget() {
  const known = load(REVISIONS, "{}");
  const doneHere = (id) => waiting().some((o) => o.itemId === id) ||
    Object.entries(known).some(([key, revision]) => revision && key.startsWith(`${id}:`));
  const todo = state.todo || [];
  const order = [...todo.filter((id) => id > state.item.id), ...todo.filter((id) => id < state.item.id)];
  return [state.next_todo, ...order].find((id) => id && id !== state.item.id && !doneHere(id)) ?? null;
}

// The queue's next item, claimed, opened in place; with none (or none allowed: suspended,
// calibration) the start page says why, or that the queue is done.
async function takeNext() {
  const result = await postJSON(`/api/v1/projects/${state.project_id}/queue/next`, {});
  if (result.ok && result.annotation.item) return open(result.annotation.item.id);
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
    // (Unless the page has moved on: another item's suggestions are that item's business.)
    const shown = state;
    answer.then((result) => {
      if (shown !== state) return;
      if (result.ok && (hidden || suggestions.visible(type))) reveal();
      else suggestions.render();
    });
    return answer;
  };
}

// --- the model's suggestions ------------------------------------------------------------------
async function reveal() {
  const shown = state;
  const response = await fetch(`/api/v1/items/${state.item.id}/suggestions`);
  if (shown !== state) return;
  if (!response.ok) return show("The model's suggestion could not be loaded; reload the page", "error");
  const found = await response.json();
  if (shown === state) suggestions.reveal(found);
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
  const shown = state;
  const result = await postJSON(`/api/v1/suggestions/${suggestion.id}/dismiss`, {});
  if (shown !== state) return;
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
    return open(last.itemId);
  }
  editors.show(last.type, last.before);
  show("Undone", "saved");
}

// Navigation follows the queue as filtered (state.query keeps ?queue=… on every link).
function next() {
  if (state.next) return open(state.next);
  // Past the end: the whole queue and "to do" claim more work; "done" and "skipped" have no more.
  if (state.queue === "all" || state.queue === "todo") return takeNext();
  show("This is the last item in the queue shown", "saved");
}

function previous() {
  if (state.previous) open(state.previous);
}

async function skip() {
  const id = state.item.id;
  const result = await postJSON(`/api/v1/items/${id}/skip`, {});
  if (!result.ok) return show(`Not skipped: ${result.message}`, "error");
  ahead.delete(id);
  if (id === state.item.id) next();
}

// --- keys -------------------------------------------------------------------------------------
const help = document.querySelector("[data-help]");
const actions = { prev: previous, next, skip, undo: undoLast,
                  help: () => (help.open ? help.close() : help.showModal()) };
// One listener for the page's life: the buttons and links it finds are swapped with the item.
document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey ||
      event.shiftKey || event.altKey) return;
  const button = event.target.closest?.("[data-action]");
  if (button) return actions[button.dataset.action]();
  // A link to another item of this queue (the queue panel, "Not saved") opens it in place.
  const link = event.target.closest?.("a[data-queue-item], a[data-open-item]");
  if (link) {
    event.preventDefault();
    open(Number(link.dataset.queueItem || link.dataset.openItem));
  }
});
document.addEventListener("keydown", (event) => {
  if (!editors) return; // between two items: the next one is on its way
  if (editors.onKey(event)) return event.preventDefault();
  if (isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (viewerKeys?.onKey?.(event)) return event.preventDefault();
  const key = event.key;
  const handler = { ArrowRight: next, ArrowLeft: previous, s: skip, S: skip, z: undoLast, Z: undoLast,
                    a: acceptKey, A: acceptKey,
                    "?": actions.help }[key];
  if (handler) { event.preventDefault(); handler(); }
});

// --- opening an item ---------------------------------------------------------------------------
// Opening the item claims nothing; takeUp's POST claims its slot (or renews the claim's lease)
// and holds the next items. A refusal (all slots taken, calibration not passed) shows on a save.
// Its answer is the labeling context as it now is: the queue panel is drawn again from it (the
// page may have been fetched ahead, before the last decisions), and the pages of the items
// held after this one are fetched ahead, with their media.
async function takeUp(shown) {
  const url = `/api/v1/projects/${shown.project_id}/queue/${shown.item.id}/claim${shown.query}`;
  const result = await postJSON(url, { ahead: shown.ahead });
  if (shown !== state) return;
  if (result.ok) {
    const window = result.annotation.queue;
    drawQueue(window);
    for (const key of ["previous", "next", "next_todo"]) state[key] = window[key];
    state.todo = window.items.filter((entry) => entry.status === "todo").map((entry) => entry.id);
    // Fetched ahead: where a label moves on to, then the next items of the panel.
    const first = window.items.filter((entry) => entry.id === window.next_todo);
    const following = window.items.filter((entry) => entry.id > state.item.id && entry.id !== window.next_todo);
    state.preload = [...first, ...following].slice(0, state.ahead)
      .map(({ id, name, media_url, media_type, meta }) => ({ id, name, media: media_url, media_type, meta }));
  }
  fetchAhead();
}

/** The queue panel from the queue window of the labeling context (as label.html draws it). */
function drawQueue(window) {
  for (const [key, count] of Object.entries(window.counts)) {
    const badge = document.querySelector(`[data-count="queue-${key}"]`);
    if (badge) badge.textContent = count;
  }
  const panel = document.querySelector(".label-queue");
  if (!panel || !window.items.length) return;
  let list = panel.querySelector(".queue-list");
  if (!list) {
    list = Object.assign(document.createElement("ol"), { className: "queue-list" });
    panel.querySelector("[data-queue-empty]")?.replaceWith(list);
  }
  const element = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  };
  list.replaceChildren(...window.items.map((entry) => {
    const link = element("a", { href: itemUrl(entry.id) },
      element("img", { src: entry.thumbnail_url, alt: "", loading: "lazy" }),
      element("span", { textContent: entry.name }));
    link.dataset.queueItem = entry.id;
    const status = element("span", { className: `badge ${entry.status}`, textContent: entry.status.replaceAll("_", " ") });
    status.dataset.queueStatus = "";
    const badges = element("span", { className: "queue-badges" }, status);
    if (entry.suggested) {
      const suggested = element("span", { className: "badge suggested", textContent: "suggested",
                                          title: "A model suggestion is waiting on this item" });
      suggested.dataset.queueSuggested = "";
      badges.append(suggested);
    }
    link.append(badges);
    const row = element("li", {}, link);
    if (entry.id === state.item.id) {
      row.className = "current";
      row.setAttribute("aria-current", "true");
    }
    return row;
  }));
}

const itemUrl = (id) => `/projects/${state.project_id}/label/${id}${state.query}`;

/** The labeling page of a URL, ready to show: { title, stateText, content } (its content
 * already made part of this document, off screen, so showing it only inserts it); null when
 * the server answers with anything else. */
async function fetchPage(url) {
  let page;
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok || response.redirected) return null;
    page = new DOMParser().parseFromString(await response.text(), "text/html");
  } catch {
    return null;
  }
  const content = page.querySelector("[data-label-page]");
  const stateText = page.getElementById("label-state")?.textContent;
  if (!content || !stateText) return null;
  return { title: page.title, stateText, content: document.importNode(content, true) };
}

// The pages fetched ahead, by item id: each used once, and not after a minute (what it says
// of the queue and the suggestions ages) or after a decision on its item (enqueue drops it).
const AHEAD_FOR_MS = 60_000;
const ahead = new Map();

function fetchAhead() {
  preload({ viewer: state.viewer, items: state.preload });
  // Where a label moves on to, and where → goes: the items likely opened next. Pages fetched
  // for others are let go (each holds its markup, images and all).
  const wanted = [...new Set([moveTarget(), state.next].filter(Boolean))];
  for (const id of ahead.keys()) if (!wanted.includes(id)) ahead.delete(id);
  for (const id of wanted) {
    const kept = ahead.get(id);
    if (kept && performance.now() - kept.at < AHEAD_FOR_MS) continue;
    ahead.set(id, { at: performance.now(), page: fetchPage(itemUrl(id)) });
  }
}

let opening = null;
/** Show item ``id`` in place (its page fetched ahead, else fetched now), as the history's
 * newest entry unless ``push`` is false (back and forward); a full page load if that fails. */
function open(id, { push = true } = {}) {
  if (opening) return opening;
  opening = swap(id, push).finally(() => { opening = null; });
  return opening;
}

async function swap(id, push) {
  const url = itemUrl(id);
  const kept = ahead.get(id);
  ahead.delete(id);
  const fresh = kept && performance.now() - kept.at < AHEAD_FOR_MS ? kept.page : fetchPage(url);
  const shown = await fresh;
  if (!shown) return location.assign(url);
  leave();
  document.querySelector("[data-label-page]").replaceWith(shown.content);
  document.title = shown.title;
  document.getElementById("label-state").textContent = shown.stateText;
  state = JSON.parse(shown.stateText);
  if (push) history.pushState({ item: id }, "", url);
  start();
}

// Leaving while labels wait to be sent asks first: they are kept in this browser and sent from
// the next labeling page, but a person closing the tab should know that they have not left.
addEventListener("beforeunload", (event) => {
  if (waiting().length) event.preventDefault();
});

// Back and forward between items opened in place open them in place again.
addEventListener("popstate", () => {
  const id = Number((location.pathname.match(/\/label\/(\d+)$/) || [])[1]);
  if (id && id !== state.item.id) open(id, { push: false });
  else if (!id) location.reload();
});

let suggestions = null;
let viewer = null;
let viewerKeys = null;
let editors = null;

/** Let go of the item shown: its viewer and editors stop listening. */
function leave() {
  editors?.destroy?.();
  viewerKeys?.destroy?.();
  editors = null;
  viewerKeys = null;
  heldBack = false;
  for (const key of Object.keys(cardStatus)) delete cardStatus[key];
}

// --- start: mount the viewer and the editors, take the item up, send anything left ------------
function start() {
  spent = 0;
  visibleSince = performance.now();
  learnRevisions();
  const shown = state;
  suggestions = mountSuggestions({
    root: document.querySelector("[data-suggestions]"), suggestions: state.suggestions,
    mine: pendingPayload, draw: drawPayload, accept, dismiss,
  });
  viewer = mountViewer({ viewer: state.viewer, item: state.item });
  viewer.then((api) => { if (shown === state) viewerKeys = api; else api?.destroy?.(); });
  editors = mountEditors({ editors: state.editors, state, saver, current: pendingPayload, viewer });
  listRefused();
  // Refusals on this item show in their editors' cards too, as when they were answered.
  editors.ready.then(() => {
    if (shown !== state) return;
    for (const op of refusedOps()) {
      if (op.itemId === state.item.id) cardStatus[op.type]?.(`Not saved: ${op.refused.message}`, "error");
    }
  });
  report();
  takeUp(shown);
}
history.replaceState({ item: state.item.id }, "", location.href);
start();
flush();
