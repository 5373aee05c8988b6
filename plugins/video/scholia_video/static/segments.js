// Action timeline editor (the "segments" annotation type): labeled spans of a video on rows.
// Scholia's editor host (static/editors.js) calls mount() with the item (its media URL and the
// probed meta: fps, duration_ms, frame_count), the categories in display order, this annotator's
// current timeline and a save(payload) that stores it; view() draws a saved timeline read-only
// for the item page, where reviewers look at what annotators drew.
//
// Time is kept in frames while editing and saved in milliseconds ([start_ms, end_ms), as
// scholia_video/segments.py defines it), so every segment lies on frame boundaries: `[` starts
// a segment at the frame shown, `]` ends it after the frame shown (that frame is in it).
// A segment is placed once it has a start, an end and a category, whichever comes last (a
// digit picks the category, which stays picked for the next segments); every placed, changed
// or deleted segment saves the whole timeline. Rows are layout: segments on one row must not
// overlap, so a refused span stays pending until it is moved to a free row (↑ ↓) or cancelled.

import { categoryForKey, clipOf, element, ensureStyles, formatTime } from "./clip.js";

const clock = new EventTarget(); // the editor's playhead, shared with the views on the page
const playheads = new Map(); // item id -> where the editor's playhead last was (ms)
const STYLES = new URL("./segments.css", import.meta.url).href;
const TICK_STEPS_MS = [40, 100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000];
const FALLBACK_COLOR = "#8a94a6";

function rowCount(segments, extra = 0) {
  return Math.max(1, extra, ...segments.map((s) => s.track + 1));
}

/** Tick spacing: the smallest step that leaves about 70 px between labels. */
function tickStep(duration, width) {
  const wanted = (duration * 70) / Math.max(width, 1);
  return TICK_STEPS_MS.find((step) => step >= wanted) ?? TICK_STEPS_MS.at(-1);
}

function tickLabel(ms, step) {
  if (ms === 0) return "0";
  if (step < 1000) return `${(ms / 1000).toFixed(step < 100 ? 2 : 1)} s`;
  return ms >= 60000 ? formatTime(ms).replace(/\.000$/, "") : `${ms / 1000} s`;
}

function describe(segment, category, clip) {
  const first = Math.round((segment.start_ms * clip.fps) / 1000);
  const last = Math.max(first, Math.ceil((segment.end_ms * clip.fps) / 1000 - 1e-6) - 1);
  const name = category ? category.name : `category ${segment.category_id} (deleted)`;
  return { name, first, last,
           text: `${name}, row ${segment.track + 1}, frames ${first}–${last} ` +
                 `(${formatTime(segment.start_ms)}–${formatTime(segment.end_ms)})` };
}

/**
 * Draw a timeline into host: a ruler, one lane per row with its segments, and a playhead.
 * Returns the elements callers wire: { area, lanes, playhead, segmentNodes }.
 */
function drawTimeline(host, { clip, segments, categories, rows, currentRow = null, selected = null,
                              pending = null }) {
  const byId = new Map(categories.map((c) => [c.id, c]));
  const percent = (ms) => `${(100 * ms) / clip.duration}%`;
  const labels = element("div", "segments-labels");
  labels.append(element("div", "segments-ruler-spacer"));
  const area = element("div", "segments-area", { "data-timeline-area": "" });
  const ruler = element("div", "segments-ruler", { "aria-hidden": "true" });
  const width = host.clientWidth || 600;
  // One faint tick a frame when frames are wide enough to tell apart, labels at round times.
  if ((width * 1000) / clip.fps / clip.duration >= 6) {
    for (let frame = 1; frame < clip.frames; frame++) {
      const tick = element("span", "segments-frame-tick");
      tick.style.left = percent(clip.ms(frame));
      ruler.append(tick);
    }
  }
  const step = tickStep(clip.duration, width - 72);
  for (let ms = 0; ms <= clip.duration + 1e-6; ms += step) {
    const tick = element("span", "segments-tick");
    tick.style.left = percent(ms);
    tick.textContent = tickLabel(ms, step);
    ruler.append(tick);
  }
  area.append(ruler);
  const lanes = [];
  const segmentNodes = new Map();
  for (let row = 0; row < rows; row++) {
    const label = element("div", "segments-row-label", { "data-row-label": row });
    label.textContent = `Row ${row + 1}`;
    const lane = element("div", "segments-lane", { "data-row": row });
    label.classList.toggle("current", row === currentRow);
    lane.classList.toggle("current", row === currentRow);
    labels.append(label);
    lanes.push(lane);
    area.append(lane);
  }
  for (const segment of segments) {
    const category = byId.get(segment.category_id);
    const about = describe(segment, category, clip);
    const node = element("div", "segments-segment", {
      "data-segment": "", "data-category-id": segment.category_id, "data-category": about.name,
      "data-track": segment.track, "data-start-ms": segment.start_ms, "data-end-ms": segment.end_ms,
      "data-first-frame": about.first, "data-last-frame": about.last,
      title: about.text, "aria-label": about.text,
    });
    node.style.left = percent(segment.start_ms);
    node.style.width = percent(segment.end_ms - segment.start_ms);
    node.style.setProperty("--category-color", category?.color || FALLBACK_COLOR);
    node.classList.toggle("selected", segment === selected);
    const name = element("span", "segments-segment-name");
    name.textContent = about.name;
    node.append(name);
    lanes[segment.track]?.append(node);
    segmentNodes.set(segment, node);
  }
  if (pending && currentRow !== null) {
    const first = pending.end === null ? Math.min(pending.start, pending.at) : pending.start;
    const last = pending.end === null ? Math.max(pending.start, pending.at) : pending.end;
    const category = byId.get(pending.categoryId);
    const node = element("div", "segments-pending", { "data-pending": "" });
    node.style.left = percent(clip.ms(first));
    node.style.width = percent(clip.ms(last + 1) - clip.ms(first));
    node.style.setProperty("--category-color", category?.color || FALLBACK_COLOR);
    node.textContent = category ? category.name : "";
    lanes[currentRow]?.append(node);
  }
  const playhead = element("div", "segments-playhead", { "data-playhead": "", "aria-hidden": "true" });
  area.append(playhead);
  host.replaceChildren(labels, area);
  return { area, lanes, playhead, segmentNodes };
}

function placePlayhead(playhead, clip, ms) {
  const frame = Math.min(clip.frames - 1, Math.floor((ms * clip.fps) / 1000 + 1e-6));
  playhead.style.left = `${(100 * clip.ms(frame)) / clip.duration}%`;
  playhead.style.width = `${(100 * (clip.ms(frame + 1) - clip.ms(frame))) / clip.duration}%`;
}

export function mount({ root, item, categories, current, save }) {
  ensureStyles(STYLES);
  const video = root.querySelector("[data-segments-video]");
  const timeline = root.querySelector("[data-segments-timeline]");
  const picker = root.querySelector("[data-segments-categories]");
  const message = root.querySelector("[data-segments-message]");
  const clockText = root.querySelector("[data-segments-clock]");
  const frameText = root.querySelector("[data-segments-frame]");
  const playButton = root.querySelector("[data-segments-do=play]");
  const deleteButton = root.querySelector("[data-segments-do=delete]");
  const clip = clipOf(item, "segments cannot snap to frames");
  const last = clip.frames - 1;
  if (item.meta?.width && item.meta?.height) {
    video.style.aspectRatio = `${item.meta.width} / ${item.meta.height}`;
  }
  video.src = item.media;

  let segments = (current?.segments || []).map((s) => ({ ...s }));
  let saved = segments.map((s) => ({ ...s }));
  let extraRows = 0;
  let row = 0;
  let frame = 0;
  let categoryId = null; // the category picked, kept for the next segments
  let pending = null; // { start, end } in frames (end inclusive, null until `]`)
  let selected = null;
  let drawn = null;

  // --- the playhead: frames while paused, the video's clock while it plays -------------------
  const frameAt = (ms) => Math.max(0, Math.min(last, Math.floor((ms * clip.fps) / 1000 + 1e-6)));
  const nowMs = () => (video.paused ? clip.ms(frame) : video.currentTime * 1000);

  function seek(to) {
    frame = Math.max(0, Math.min(last, to));
    if (!video.paused) video.pause();
    // The middle of the frame, so the browser never shows its neighbour from rounding.
    if (video.readyState >= 1) video.currentTime = (frame + 0.5) / clip.fps;
    tick();
    if (pending && pending.end === null) render();
  }

  function tick() {
    const ms = nowMs();
    if (!video.paused) frame = frameAt(ms);
    clockText.textContent = formatTime(clip.ms(frame));
    frameText.textContent = `frame ${frame} / ${last}`;
    if (drawn) placePlayhead(drawn.playhead, clip, ms);
    playheads.set(item.id, ms);
    clock.dispatchEvent(new CustomEvent("time", { detail: { itemId: item.id, ms, frame } }));
  }

  function playing() {
    tick();
    if (!video.paused) requestAnimationFrame(playing);
  }

  function togglePlay() {
    if (video.paused) {
      if (frame >= last) seek(0);
      video.play().catch((error) => say(`The video cannot play: ${error.message}`, "error"));
    } else {
      video.pause();
    }
  }

  video.addEventListener("loadedmetadata", () => { video.currentTime = (frame + 0.5) / clip.fps; });
  video.addEventListener("play", () => { playButton.textContent = "❚❚"; playing(); });
  video.addEventListener("pause", () => {
    playButton.textContent = "▶";
    frame = frameAt(video.currentTime * 1000);
    tick();
    render();
  });
  video.addEventListener("error", () => {
    say("The video cannot be loaded in this browser (its codec may not be supported); the " +
        "timeline still works from its frame count.", "error");
  });
  clock.addEventListener("seek", (event) => {
    if (root.isConnected && event.detail.itemId === item.id) seek(frameAt(event.detail.ms));
  });

  // --- drawing ---------------------------------------------------------------------------------
  function say(text, kind = "") {
    message.textContent = text;
    message.dataset.state = kind;
  }

  function renderPicker() {
    picker.replaceChildren(...categories.map((category, index) => {
      const button = element("button", "segments-category", { type: "button",
        "data-category-id": category.id, "aria-pressed": category.id === categoryId });
      button.style.setProperty("--category-color", category.color || FALLBACK_COLOR);
      if (index < 9) {
        const key = element("kbd");
        key.textContent = index + 1;
        button.append(key);
      }
      const name = element("span");
      name.textContent = category.name;
      button.append(name);
      button.addEventListener("click", () => { pick(category.id); root.focus({ preventScroll: true }); });
      return button;
    }));
  }

  function render() {
    renderPicker();
    drawn = drawTimeline(timeline, {
      clip, segments, categories, rows: rowCount(segments, extraRows), currentRow: row, selected,
      pending: pending && { ...pending, at: frame, categoryId },
    });
    deleteButton.disabled = selected === null;
    placePlayhead(drawn.playhead, clip, nowMs());
  }

  // Click or drag on the ruler or a lane: the playhead follows the pointer, frame by frame.
  // A click on a segment selects it. Listening on the timeline itself, which is never redrawn,
  // keeps the drag going while its contents are.
  function scrub(event) {
    const label = event.target.closest("[data-row-label]");
    if (label) {
      row = Number(label.dataset.rowLabel);
      selected = null;
      return render();
    }
    if (!event.target.closest("[data-timeline-area]")) return;
    const hit = event.target.closest("[data-segment]");
    if (hit) {
      const segment = [...drawn.segmentNodes].find(([, node]) => node === hit)?.[0];
      return select(segment || null);
    }
    const lane = event.target.closest("[data-row]");
    if (lane) row = Number(lane.dataset.row);
    selected = null;
    const follow = (e) => {
      const box = drawn.area.getBoundingClientRect();
      const x = Math.max(0, Math.min(box.width, e.clientX - box.left));
      seek(frameAt((x / box.width) * clip.duration));
    };
    follow(event);
    render();
    timeline.setPointerCapture?.(event.pointerId);
    timeline.addEventListener("pointermove", follow);
    timeline.addEventListener("pointerup", () => timeline.removeEventListener("pointermove", follow),
                              { once: true });
  }
  timeline.addEventListener("pointerdown", scrub);

  // --- editing -----------------------------------------------------------------------------
  function select(segment) {
    selected = segment;
    if (segment) {
      row = segment.track;
      const about = describe(segment, categories.find((c) => c.id === segment.category_id), clip);
      say(`Selected ${about.text}. Delete removes it, 1–9 relabel it, Shift+↑ ↓ move it to another row.`);
    }
    render();
  }

  function store() {
    segments.sort((a, b) => a.track - b.track || a.start_ms - b.start_ms);
    render();
    const payload = { segments: segments.map(({ track, category_id, start_ms, end_ms }) =>
      ({ track, category_id, start_ms, end_ms })) };
    return Promise.resolve(save(payload)).then((result) => {
      if (result && result.ok === false) {
        // The server refused it (its message is in the status line): show what is stored.
        const keep = selected && { ...selected };
        segments = saved.map((s) => ({ ...s }));
        selected = keep && segments.find((s) => s.track === keep.track && s.start_ms === keep.start_ms) || null;
        render();
      } else {
        saved = segments.map((s) => ({ ...s }));
      }
      return result;
    });
  }

  function clash(candidate, ignore = null) {
    return segments.find((s) => s !== ignore && s.track === candidate.track &&
                                s.start_ms < candidate.end_ms - 1e-6 && candidate.start_ms < s.end_ms - 1e-6);
  }

  function clashText(other) {
    return describe(other, categories.find((c) => c.id === other.category_id), clip).text;
  }

  function startHere() {
    selected = null;
    pending = { start: frame, end: null };
    say(`Start set at frame ${frame}. Move to the last frame of the action and press ].`);
    render();
  }

  function endHere() {
    if (!pending) {
      say("Press [ first to set where the segment starts, then ] on its last frame.", "error");
      return;
    }
    if (frame < pending.start) {
      say(`The end (frame ${frame}) is before the start (frame ${pending.start}): move the playhead ` +
          "past the start, or press [ here to start over.", "error");
      return;
    }
    pending.end = frame;
    place();
  }

  // Place the pending span on the current row once it has its start, end and category.
  function place() {
    if (!pending || pending.end === null) return render();
    if (categoryId === null) {
      say(`Frames ${pending.start}–${pending.end}: pick its category (1–${Math.min(9, categories.length)}).`);
      return render();
    }
    const segment = { track: row, category_id: categoryId, start_ms: clip.ms(pending.start),
                      end_ms: clip.ms(pending.end + 1) };
    const other = clash(segment);
    if (other) {
      say(`Frames ${pending.start}–${pending.end} overlap ${clashText(other)}. Press ↓ or ↑ to put ` +
          "it on another row (N adds one), or Escape to drop it.", "error");
      return render();
    }
    segments.push(segment);
    pending = null;
    selected = segment;
    say(`Added ${describe(segment, categories.find((c) => c.id === categoryId), clip).text}.`);
    store();
  }

  function pick(id) {
    categoryId = id;
    const category = categories.find((c) => c.id === id);
    if (selected && !pending) {
      if (selected.category_id !== id) {
        selected.category_id = id;
        say(`Relabeled as ${category.name}.`);
        store();
      }
      return;
    }
    if (pending && pending.end !== null) return place();
    say(pending ? `${category.name}: press ] on the last frame of the action.`
                : `${category.name} picked: press [ on the first frame of the action.`);
    render();
  }

  function moveRow(step) {
    const rows = rowCount(segments, extraRows);
    const target = row + step;
    if (target < 0 || target >= rows) {
      say(step > 0 ? "This is the last row: press N to add one." : "This is the top row.");
      return;
    }
    row = target;
    if (pending && pending.end !== null) return place();
    selected = null;
    say("");
    render();
  }

  function moveSelected(step) {
    if (!selected) return say("Select a segment first (click it).", "error");
    const target = selected.track + step;
    if (target < 0) return say("The segment is on the top row already.");
    extraRows = Math.max(extraRows, target + 1);
    const other = clash({ ...selected, track: target }, selected);
    if (other) return say(`It would overlap ${clashText(other)}.`, "error");
    selected.track = target;
    row = target;
    say(`Moved to row ${target + 1}.`);
    store();
  }

  function addRow() {
    extraRows = rowCount(segments, extraRows) + 1;
    row = extraRows - 1;
    say(`Row ${row + 1} added.`);
    if (pending && pending.end !== null) return place();
    selected = null;
    render();
  }

  function remove() {
    if (!selected) return say("Select a segment first (click it), then press Delete.", "error");
    const about = describe(selected, categories.find((c) => c.id === selected.category_id), clip);
    segments = segments.filter((s) => s !== selected);
    selected = null;
    say(`Deleted ${about.text}.`);
    store();
  }

  function cancel() {
    if (!pending && !selected) return false;
    pending = null;
    selected = null;
    say("");
    render();
    return true;
  }

  const actions = {
    back: () => seek(frame - 1), forward: () => seek(frame + 1), play: togglePlay,
    start: startHere, end: endHere, row: addRow, delete: remove,
  };
  for (const button of root.querySelectorAll("[data-segments-do]")) {
    button.addEventListener("click", () => {
      actions[button.dataset.segmentsDo]();
      root.focus({ preventScroll: true }); // so Space goes on playing, not pressing the button
    });
  }
  new ResizeObserver(() => render()).observe(timeline);
  render();
  tick();

  const keys = {
    " ": togglePlay, ",": () => seek(frame - 1), ".": () => seek(frame + 1),
    "<": () => seek(frame - 10), ">": () => seek(frame + 10),
    Home: () => seek(0), End: () => seek(last),
    "[": startHere, "]": endHere, n: addRow, N: addRow,
    Delete: remove, Backspace: remove, ArrowUp: () => moveRow(-1), ArrowDown: () => moveRow(1),
  };
  const codes = { BracketLeft: "[", BracketRight: "]" }; // layouts that put the brackets elsewhere
  return {
    onKey(event) {
      if (event.shiftKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
        moveSelected(event.key === "ArrowUp" ? -1 : 1);
        return true;
      }
      if (event.key === "Escape") return cancel();
      const chosen = categoryForKey(event, categories);
      if (chosen) {
        pick(chosen.id);
        return true;
      }
      const action = keys[event.key] || keys[codes[event.code]];
      if (!action) return false;
      action();
      return true;
    },
    show(payload) {
      segments = (payload?.segments || []).map((s) => ({ ...s }));
      saved = segments.map((s) => ({ ...s }));
      pending = null;
      selected = null;
      say("");
      render();
    },
  };
}

/**
 * The read-only timeline of one saved payload (the item page's annotation list). Clicking a
 * segment moves this page's player (the editor's) to its first frame; the editor's playhead
 * shows on every view.
 */
export function view({ root, payload, categories, item }) {
  ensureStyles(STYLES);
  const clip = clipOf(item, "segments cannot snap to frames");
  const segments = payload?.segments || [];
  root.classList.add("segments-view");
  const host = element("div", "segments-timeline");
  const list = element("ol", "segments-list");
  root.replaceChildren(host, list);
  let drawn;
  let playheadMs = playheads.get(item.id) ?? null; // the editor's, when the page has one
  const draw = () => {
    drawn = drawTimeline(host, { clip, segments, categories, rows: rowCount(segments) });
    drawn.playhead.hidden = playheadMs === null;
    if (playheadMs !== null) placePlayhead(drawn.playhead, clip, playheadMs);
    for (const [segment, node] of drawn.segmentNodes) {
      node.addEventListener("click", () => clock.dispatchEvent(
        new CustomEvent("seek", { detail: { itemId: item.id, ms: segment.start_ms } })));
    }
  };
  const byId = new Map(categories.map((c) => [c.id, c]));
  list.replaceChildren(...segments.map((segment) => {
    const entry = element("li", "", { "data-segment-entry": "" });
    const swatch = element("span", "swatch");
    swatch.style.background = byId.get(segment.category_id)?.color || FALLBACK_COLOR;
    entry.append(swatch, describe(segment, byId.get(segment.category_id), clip).text);
    return entry;
  }));
  if (!segments.length) list.append(Object.assign(element("li", "muted"), { textContent: "No segments." }));
  const follow = (event) => {
    if (!root.isConnected) return clock.removeEventListener("time", follow);
    if (event.detail.itemId !== item.id) return;
    playheadMs = event.detail.ms;
    drawn.playhead.hidden = false;
    placePlayhead(drawn.playhead, clip, playheadMs);
  };
  clock.addEventListener("time", follow);
  new ResizeObserver(draw).observe(host);
  draw();
}
