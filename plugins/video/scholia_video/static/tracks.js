// Object track editor (the "track" annotation type): boxes on keyframes of a video, linearly
// interpolated between them, as CVAT draws tracks. Scholia's editor host (static/editors.js)
// calls mount() with the item (its media URL and probed meta: fps, frame_count, width, height),
// the categories in display order, this annotator's current tracks and a save(payload) that
// stores them; view() shows a saved payload read-only on the item page.
//
// Only keyframes are stored. Every other frame's box comes from shapeAt(), which follows
// scholia_video/tracks.py step by step, so the page shows what the server and the exports
// compute. Boxes are in pixels of the video frame: the overlay is an SVG whose viewBox is the
// frame, laid over the <video> at the same aspect ratio, so a pointer position maps to frame
// pixels by one scale. Drawing a box, moving or resizing one, O (outside) and H (occluded) put a
// keyframe on the frame shown and save the whole payload; when the server refuses it, the last
// saved tracks come back and the reason stays in the status line.

import { categoryForKey, clipOf, element, ensureStyles, formatTime } from "./clip.js";

const STYLES = new URL("./tracks.css", import.meta.url).href;
const FALLBACK_COLOR = "#8a94a6";
const HANDLE_PX = 9; // corner handles, in screen pixels
const CLICK_PX = 4; // a drag shorter than this (screen pixels) is a click
const TICK_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/**
 * The track's shape on `frame` (tracks.py shape_at): null before the first keyframe and between
 * an outside keyframe and the next one; a keyframe's own box on its frame (an outside one
 * flagged outside); between two keyframes the linear interpolation of their boxes with the left
 * keyframe's occluded; after the last keyframe that box, unless it is outside.
 */
export function shapeAt(track, frame) {
  const keys = track.keyframes;
  let index = -1; // bisect_right(frames, frame) - 1
  while (index + 1 < keys.length && keys[index + 1].frame <= frame) index++;
  if (index < 0) return null;
  const left = keys[index];
  const { x, y, width, height, occluded } = left;
  if (left.frame === frame) return { frame, x, y, width, height, outside: left.outside, occluded, keyframe: true };
  if (left.outside) return null;
  if (index + 1 === keys.length) return { frame, x, y, width, height, outside: false, occluded, keyframe: false };
  const right = keys[index + 1];
  const offset = (frame - left.frame) / (right.frame - left.frame);
  return {
    frame,
    x: x + (right.x - x) * offset,
    y: y + (right.y - y) * offset,
    width: width + (right.width - width) * offset,
    height: height + (right.height - height) * offset,
    outside: false,
    occluded,
    keyframe: false,
  };
}

/** Where the object is seen: [first, last] frame spans, for the track's lane. */
function visibleSpans(track, frames) {
  const spans = [];
  let start = null;
  for (const key of track.keyframes) {
    if (key.outside && start !== null) {
      spans.push([start, key.frame]);
      start = null;
    } else if (!key.outside && start === null) {
      start = key.frame;
    }
  }
  if (start !== null) spans.push([start, frames - 1]);
  return spans;
}

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));
const round = (value) => Math.round(value * 100) / 100;
const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;

/** A copy of a payload's tracks, sorted, with the flags spelled out (the editor's working copy). */
function copyTracks(payload) {
  return (payload?.tracks || []).map((track) => ({
    track_id: track.track_id,
    category_id: track.category_id,
    keyframes: track.keyframes.map((k) => ({
      frame: k.frame, x: k.x, y: k.y, width: k.width, height: k.height,
      outside: Boolean(k.outside), occluded: Boolean(k.occluded),
    })).sort((a, b) => a.frame - b.frame),
  })).sort((a, b) => a.track_id - b.track_id);
}

/**
 * The player both the editor and the view use: a <video> held paused on whole frames (the
 * middle of each, so the browser never shows a neighbour from rounding), playing on Space.
 * onFrame(frame) runs whenever the frame shown changes.
 */
function framePlayer(video, clip, item, onFrame) {
  let frame = 0;
  const frameAt = (seconds) => clamp(Math.floor(seconds * clip.fps + 1e-6), 0, clip.last);
  const show = () => { if (video.readyState >= 1) video.currentTime = (frame + 0.5) / clip.fps; };
  function seek(to) {
    frame = clamp(Math.round(to), 0, clip.last);
    if (!video.paused) video.pause();
    show();
    onFrame(frame);
  }
  function follow() {
    if (video.paused) return;
    const now = frameAt(video.currentTime);
    if (now !== frame) {
      frame = now;
      onFrame(frame);
    }
    requestAnimationFrame(follow);
  }
  video.addEventListener("loadedmetadata", show);
  video.addEventListener("play", follow);
  video.addEventListener("pause", () => {
    frame = frameAt(video.currentTime);
    show();
    onFrame(frame);
  });
  video.src = item.media;
  return {
    get frame() { return frame; },
    get playing() { return !video.paused; },
    seek,
    toggle() {
      if (!video.paused) return video.pause();
      if (frame >= clip.last) seek(0);
      return video.play();
    },
  };
}

/** The boxes of every track on one frame, into the overlay (viewBox = the frame's pixels). */
function drawBoxes(svg, { clip, tracks, frame, byId, selected = null, draft = null }) {
  const scale = svg.getBoundingClientRect().width / clip.width || 1;
  svg.setAttribute("viewBox", `0 0 ${clip.width} ${clip.height}`);
  const nodes = [];
  const box = (shape, color, attributes) => element("svg:rect", "tracks-box-frame", {
    x: shape.x, y: shape.y, width: shape.width, height: shape.height, stroke: color, fill: color,
    "vector-effect": "non-scaling-stroke", ...attributes,
  });
  // The selected track is drawn last, so it is on top and its handles can always be grabbed.
  const order = [...tracks].sort((a, b) => (a.track_id === selected) - (b.track_id === selected));
  for (const track of order) {
    if (draft && draft.trackId === track.track_id) continue; // drawn where the pointer has it
    const shape = shapeAt(track, frame);
    if (!shape || shape.outside) continue;
    const category = byId.get(track.category_id);
    const color = category?.color || FALLBACK_COLOR;
    const chosen = track.track_id === selected;
    const group = element("svg:g", `tracks-box${chosen ? " selected" : ""}${shape.occluded ? " occluded" : ""}`, {
      "data-track-id": track.track_id, "data-keyframe": shape.keyframe, "data-occluded": shape.occluded,
      "data-x": round(shape.x), "data-y": round(shape.y), "data-width": round(shape.width),
      "data-height": round(shape.height),
    });
    group.append(box(shape, color, { "data-move": "" }));
    const name = `${shape.keyframe ? "◆ " : ""}${category ? category.name : `category ${track.category_id}`} #${track.track_id}`;
    const size = 11 / scale;
    const tag = element("svg:g", "tracks-tag", { "data-move": "" });
    const label = element("svg:text", "", { x: shape.x + 4 / scale, "font-size": size });
    label.textContent = name + (shape.occluded ? " · occluded" : "");
    const back = element("svg:rect", "", { x: shape.x, height: size * 1.45, fill: color, rx: 2 / scale });
    tag.append(back, label);
    group.append(tag);
    if (chosen) {
      const half = HANDLE_PX / scale / 2;
      for (const [corner, hx, hy] of [["nw", 0, 0], ["ne", 1, 0], ["sw", 0, 1], ["se", 1, 1]]) {
        group.append(element("svg:rect", `tracks-handle ${corner}`, {
          "data-handle": corner, x: shape.x + hx * shape.width - half, y: shape.y + hy * shape.height - half,
          width: 2 * half, height: 2 * half, stroke: color, "vector-effect": "non-scaling-stroke",
        }));
      }
    }
    nodes.push([group, tag, back, label, shape, size]);
  }
  if (draft) {
    const color = byId.get(draft.categoryId)?.color || FALLBACK_COLOR;
    nodes.push([box(draft, color, { class: "tracks-draft", "data-draft": "" })]);
  }
  svg.replaceChildren(...nodes.map(([node]) => node));
  // Tags sit above their box, or inside it at the top edge of the frame; sized to their text.
  for (const [, tag, back, label, shape, size] of nodes) {
    if (!tag) continue;
    const height = size * 1.45;
    const top = shape.y - height >= 0 ? shape.y - height : shape.y;
    const width = label.getComputedTextLength() + 8 / scale;
    const left = clamp(shape.x, 0, Math.max(0, clip.width - width));
    back.setAttribute("x", left);
    back.setAttribute("y", top);
    back.setAttribute("width", width);
    label.setAttribute("x", left + 4 / scale);
    label.setAttribute("y", top + size * 1.08);
  }
}

/** Frame numbers along the timeline, about every 60 screen pixels. */
function drawRuler(ruler, clip) {
  const width = ruler.clientWidth || 300;
  const step = TICK_STEPS.find((s) => (s * width) / clip.frames >= 60) ?? TICK_STEPS.at(-1);
  const ticks = [];
  for (let frame = 0; frame < clip.frames; frame += step) {
    const tick = element("span", "tracks-tick");
    tick.style.left = `${(100 * frame) / clip.frames}%`;
    tick.textContent = frame;
    ticks.push(tick);
  }
  ruler.replaceChildren(...ticks, element("span", "tracks-playhead", { "data-playhead": "" }));
}

/** One lane a track: where it is seen (bars) and its keyframes (diamonds, hollow when outside). */
function drawLane(lane, track, clip, color) {
  const at = (frame) => `${(100 * frame) / clip.frames}%`;
  const parts = visibleSpans(track, clip.frames).map(([first, last]) => {
    const bar = element("span", "tracks-span");
    bar.style.left = at(first);
    bar.style.width = `calc(${at(last - first + 1)})`;
    return bar;
  });
  for (const key of track.keyframes) {
    const mark = element("span", `tracks-key${key.outside ? " outside" : ""}${key.occluded ? " occluded" : ""}`, {
      "data-key-frame": key.frame, title: `Keyframe at frame ${key.frame}${key.outside ? " (outside)" : ""}` +
        `${key.occluded ? " (occluded)" : ""}`,
    });
    mark.style.left = `calc(${at(key.frame)} + ${50 / clip.frames}%)`;
    parts.push(mark);
  }
  lane.style.setProperty("--category-color", color);
  lane.replaceChildren(...parts, element("span", "tracks-playhead"));
}

function placePlayheads(root, clip, frame) {
  for (const head of root.querySelectorAll(".tracks-playhead")) {
    head.style.left = `${(100 * frame) / clip.frames}%`;
    head.style.width = `${100 / clip.frames}%`;
  }
}

function trackRow(track, { clip, byId, frame, selected }) {
  const category = byId.get(track.category_id);
  const color = category?.color || FALLBACK_COLOR;
  const row = element("li", `tracks-row${track.track_id === selected ? " selected" : ""}`, {
    "data-track-row": track.track_id, "data-category-id": track.category_id,
    "data-keyframes": track.keyframes.length,
  });
  const head = element("div", "tracks-row-head");
  const swatch = element("span", "swatch");
  swatch.style.background = color;
  const name = element("span", "tracks-row-name");
  name.textContent = category ? category.name : `category ${track.category_id} (deleted)`;
  const id = element("span", "tracks-row-id");
  id.textContent = `#${track.track_id}`;
  const shape = shapeAt(track, frame);
  const state = element("span", "tracks-row-state", { "data-track-state": "" });
  state.textContent = !shape || shape.outside ? "outside" : shape.occluded ? "occluded" : "";
  const count = element("span", "tracks-row-count");
  count.textContent = plural(track.keyframes.length, "keyframe");
  head.append(swatch, name, id, state, count);
  const lane = element("div", "tracks-lane", { "data-lane": track.track_id });
  drawLane(lane, track, clip, color);
  row.append(head, lane);
  return row;
}

/** The frame under the pointer on a lane or the ruler. */
function frameUnder(event, strip, clip) {
  const box = strip.getBoundingClientRect();
  return clamp(Math.floor(((event.clientX - box.left) / box.width) * clip.frames), 0, clip.last);
}

export function mount({ root, item, categories, current, save }) {
  ensureStyles(STYLES);
  const $ = (name) => root.querySelector(`[data-tracks-${name}]`);
  const video = $("video");
  const stage = $("stage");
  const svg = $("overlay");
  const ruler = $("ruler");
  const list = $("list");
  const picker = $("categories");
  const message = $("message");
  const frameText = $("frame");
  const clockText = $("clock");
  const playButton = root.querySelector("[data-tracks-do=play]");
  const clip = clipOf(item, "keyframes cannot be placed on frames");
  const byId = new Map(categories.map((c) => [c.id, c]));

  let tracks = copyTracks(current);
  let saved = copyTracks(current);
  let selected = null; // the selected track's id; null: the next box drawn starts a new track
  let categoryId = categories[0]?.id ?? null; // the category a new track gets
  let draft = null; // the box being drawn, in frame pixels

  const player = framePlayer(video, clip, item, () => render());
  const selectedTrack = () => tracks.find((t) => t.track_id === selected) || null;
  const categoryName = (id) => byId.get(id)?.name ?? `category ${id}`;
  const describe = (track) => `${categoryName(track.category_id)} #${track.track_id}`;

  function sized() {
    if (!clip.width || !clip.height) {
      clip.width = video.videoWidth;
      clip.height = video.videoHeight;
    }
    if (clip.width && clip.height) stage.style.aspectRatio = `${clip.width} / ${clip.height}`;
    return clip.width > 0 && clip.height > 0;
  }
  video.addEventListener("loadedmetadata", () => { sized(); render(); });
  video.addEventListener("play", () => { playButton.textContent = "❚❚"; });
  video.addEventListener("pause", () => { playButton.textContent = "▶"; });
  video.addEventListener("error", () => {
    say("The video cannot be played in this browser (its codec may not be supported); boxes can " +
        "still be drawn on its frames.", "error");
  });

  function say(text, kind = "") {
    message.textContent = text;
    message.dataset.state = kind;
  }

  // --- drawing -------------------------------------------------------------------------------
  function render() {
    const frame = player.frame;
    const track = selectedTrack();
    const shape = track && shapeAt(track, frame);
    frameText.textContent = `frame ${frame} / ${clip.last}`;
    clockText.textContent = formatTime((1000 * frame) / clip.fps);
    stage.dataset.frame = frame;
    if (sized()) drawBoxes(svg, { clip, tracks, frame, byId, selected, draft });
    const shown = track ? track.category_id : categoryId;
    for (const button of picker.children) {
      button.setAttribute("aria-pressed", Number(button.dataset.categoryId) === shown);
    }
    const flags = { outside: !shape || shape.outside, occluded: Boolean(shape?.occluded) };
    for (const [name, on] of Object.entries(flags)) {
      const button = root.querySelector(`[data-tracks-do=${name}]`);
      button.disabled = !track;
      button.setAttribute("aria-pressed", Boolean(track) && on);
    }
    root.querySelector("[data-tracks-do=delete]").disabled = !track;
    const rows = tracks.map((t) => trackRow(t, { clip, byId, frame, selected }));
    if (!rows.length) {
      rows.push(Object.assign(element("li", "tracks-empty muted"), {
        textContent: "No tracks yet: drag on the frame to draw the first box.",
      }));
    }
    list.replaceChildren(...rows);
    drawRuler(ruler, clip);
    placePlayheads(root, clip, frame);
    root.querySelector("[data-tracks-selection]").textContent = track
      ? `${describe(track)}${shape?.keyframe ? " · keyframe" : ""}`
      : `New track (${categoryName(categoryId)})`;
  }

  function renderPicker() {
    picker.replaceChildren(...categories.map((category, index) => {
      const button = element("button", "tracks-category", { type: "button", "data-category-id": category.id });
      button.style.setProperty("--category-color", category.color || FALLBACK_COLOR);
      if (index < 9) button.append(Object.assign(element("kbd"), { textContent: index + 1 }));
      button.append(Object.assign(element("span"), { textContent: category.name }));
      button.addEventListener("click", () => { pick(category.id); root.focus({ preventScroll: true }); });
      return button;
    }));
  }

  // --- storing ---------------------------------------------------------------------------------
  function store(done) {
    say(done);
    render();
    const payload = { tracks: tracks.map((t) => ({ track_id: t.track_id, category_id: t.category_id,
                                                   keyframes: t.keyframes.map((k) => ({ ...k })) })) };
    return Promise.resolve(save(payload)).then((result) => {
      if (result && result.ok === false) {
        // Refused (the reason is in the status line): show what is stored.
        tracks = copyTracks({ tracks: saved });
        if (!selectedTrack()) selected = null;
        say("That change is undone: the tracks are as last saved.", "error");
        render();
      } else {
        saved = copyTracks({ tracks });
      }
      return result;
    });
  }

  /** Put a keyframe on the frame shown, replacing the one there. */
  function setKeyframe(track, box, flags) {
    const frame = player.frame;
    const key = { frame, x: round(box.x), y: round(box.y), width: round(box.width), height: round(box.height),
                  outside: Boolean(flags.outside), occluded: Boolean(flags.occluded) };
    track.keyframes = [...track.keyframes.filter((k) => k.frame !== frame), key].sort((a, b) => a.frame - b.frame);
  }

  function newTrack() {
    const track = { track_id: Math.max(0, ...tracks.map((t) => t.track_id)) + 1, category_id: categoryId, keyframes: [] };
    tracks.push(track);
    return track;
  }

  function placeBox(box, how) {
    let track = selectedTrack();
    const fresh = !track;
    if (fresh) {
      if (categoryId === null) return say("The project has no categories: a manager needs to add one.", "error");
      track = newTrack();
      selected = track.track_id;
    }
    const shape = shapeAt(track, player.frame);
    setKeyframe(track, box, { outside: false, occluded: Boolean(shape && !shape.outside && shape.occluded) });
    const where = `(${Math.round(box.x)}, ${Math.round(box.y)}), ${Math.round(box.width)}×${Math.round(box.height)} px`;
    store(fresh ? `New track ${describe(track)}: keyframe at frame ${player.frame}, ${where}.${how}`
                : `${describe(track)}: keyframe at frame ${player.frame}, ${where}.${how}`);
  }

  // --- the pointer on the frame ----------------------------------------------------------------
  function framePoint(event) {
    const box = svg.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * clip.width;
    const y = ((event.clientY - box.top) / box.height) * clip.height;
    const inside = x >= 0 && y >= 0 && x <= clip.width && y <= clip.height;
    return { x: clamp(x, 0, clip.width), y: clamp(y, 0, clip.height), inside, scale: box.width / clip.width };
  }

  function drag(event, { move, end }) {
    svg.setPointerCapture?.(event.pointerId);
    const start = framePoint(event);
    let outside = false;
    let moved = false;
    const onMove = (e) => {
      const point = framePoint(e);
      outside ||= !point.inside;
      moved ||= Math.hypot(e.clientX - event.clientX, e.clientY - event.clientY) >= CLICK_PX;
      if (moved) move(start, point);
    };
    const onUp = (e) => {
      svg.removeEventListener("pointermove", onMove);
      svg.removeEventListener("pointerup", onUp);
      svg.removeEventListener("pointercancel", onUp);
      if (e.type !== "pointercancel") onMove(e);
      end(moved, outside ? " It was clamped to the frame's edges." : "");
    };
    svg.addEventListener("pointermove", onMove);
    svg.addEventListener("pointerup", onUp);
    svg.addEventListener("pointercancel", onUp);
  }

  svg.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || !sized()) return;
    event.preventDefault();
    if (player.playing) player.seek(player.frame);
    const group = event.target.closest("[data-track-id]");
    const track = group && tracks.find((t) => t.track_id === Number(group.dataset.trackId));
    const handle = event.target.dataset?.handle;
    const minimum = (point) => 2 / point.scale; // the smallest box: 2 screen pixels a side
    if (track && handle) {
      // Resize: the opposite corner stays where it is.
      const shape = shapeAt(track, player.frame);
      const fixed = { x: handle.includes("w") ? shape.x + shape.width : shape.x,
                      y: handle.includes("n") ? shape.y + shape.height : shape.y };
      let box = null;
      drag(event, {
        move: (start, point) => {
          const width = Math.abs(point.x - fixed.x);
          const height = Math.abs(point.y - fixed.y);
          if (width < minimum(point) || height < minimum(point)) return;
          box = { x: Math.min(point.x, fixed.x), y: Math.min(point.y, fixed.y), width, height };
          draft = { ...box, categoryId: track.category_id, trackId: track.track_id };
          render();
        },
        end: (moved, clamped) => {
          draft = null;
          if (moved && box) placeBox(box, clamped);
          else render();
        },
      });
      return;
    }
    if (track) {
      // Select it; a drag moves the box (inside the frame).
      selected = track.track_id;
      const shape = shapeAt(track, player.frame);
      let box = null;
      render();
      drag(event, {
        move: (start, point) => {
          box = { x: clamp(shape.x + point.x - start.x, 0, clip.width - shape.width),
                  y: clamp(shape.y + point.y - start.y, 0, clip.height - shape.height),
                  width: shape.width, height: shape.height };
          draft = { ...box, categoryId: track.category_id, trackId: track.track_id };
          render();
        },
        end: (moved) => {
          draft = null;
          if (moved && box) placeBox(box, "");
          else {
            say(`Selected ${describe(track)}. Drag it to move it, a corner to resize it.`);
            render();
          }
        },
      });
      return;
    }
    // On the frame itself: draw a box; a click without a drag deselects.
    let box = null;
    drag(event, {
      move: (start, point) => {
        const width = Math.abs(point.x - start.x);
        const height = Math.abs(point.y - start.y);
        box = width >= minimum(point) && height >= minimum(point)
          ? { x: Math.min(start.x, point.x), y: Math.min(start.y, point.y), width, height } : null;
        draft = box && { ...box, categoryId: selectedTrack()?.category_id ?? categoryId };
        render();
      },
      end: (moved, clamped) => {
        draft = null;
        if (moved && box) return placeBox(box, clamped);
        if (!moved && selected !== null) {
          selected = null;
          say("No track selected: the next box drawn starts a new track.");
        }
        render();
      },
    });
  });

  // --- editing ---------------------------------------------------------------------------------
  function pick(id) {
    const track = selectedTrack();
    categoryId = id;
    if (track && track.category_id !== id) {
      track.category_id = id;
      return store(`${describe(track)}: category ${categoryName(id)}.`);
    }
    say(track ? "" : `${categoryName(id)}: the next box drawn starts a ${categoryName(id)} track.`);
    render();
  }

  function newTrackNext() {
    selected = null;
    say(`New track: drag on the frame to draw its first box (${categoryName(categoryId)}; a digit picks another category).`);
    render();
  }

  function needTrack() {
    const track = selectedTrack();
    if (!track) say("Select a track first (click its box or its row), or draw a box.", "error");
    return track;
  }

  // O: the object leaves the frame here (or comes back here).
  function toggleOutside() {
    const track = needTrack();
    if (!track) return;
    const frame = player.frame;
    const shape = shapeAt(track, frame);
    if (shape && !shape.outside) {
      setKeyframe(track, shape, { outside: true, occluded: shape.occluded });
      return store(`${describe(track)} is outside from frame ${frame} (until its next keyframe).`);
    }
    // Absent here: it comes back where it was last seen (or where it first shows).
    const before = track.keyframes.filter((k) => k.frame <= frame).at(-1) || track.keyframes[0];
    setKeyframe(track, before, { outside: false, occluded: false });
    store(`${describe(track)} is back in frame ${frame}: move its box to where it is.`);
  }

  // H: hidden behind something from here (or visible again).
  function toggleOccluded() {
    const track = needTrack();
    if (!track) return;
    const shape = shapeAt(track, player.frame);
    if (!shape || shape.outside) {
      return say(`${describe(track)} is outside at this frame: press O to bring it back first.`, "error");
    }
    setKeyframe(track, shape, { outside: false, occluded: !shape.occluded });
    store(`${describe(track)} is ${shape.occluded ? "visible" : "occluded"} from frame ${player.frame}.`);
  }

  function remove(whole) {
    const track = needTrack();
    if (!track) return;
    const frame = player.frame;
    if (!whole && !track.keyframes.some((k) => k.frame === frame)) {
      return say(`${describe(track)} has no keyframe at frame ${frame}: K goes to its next one, ` +
                 "Shift+Delete removes the whole track.", "error");
    }
    track.keyframes = whole ? [] : track.keyframes.filter((k) => k.frame !== frame);
    if (!track.keyframes.length) {
      tracks = tracks.filter((t) => t !== track);
      selected = null;
      return store(`Deleted track ${describe(track)}.`);
    }
    store(`Deleted the keyframe of ${describe(track)} at frame ${frame}.`);
  }

  function jumpKeyframe(step) {
    const track = selectedTrack();
    const frames = (track ? track.keyframes.map((k) => k.frame) : tracks.flatMap((t) => t.keyframes.map((k) => k.frame)))
      .sort((a, b) => a - b);
    const target = step > 0 ? frames.find((f) => f > player.frame) : frames.findLast((f) => f < player.frame);
    if (target === undefined) return say(step > 0 ? "No keyframe after this frame." : "No keyframe before this frame.");
    say("");
    player.seek(target);
  }

  function select(trackId) {
    selected = trackId;
    const track = selectedTrack();
    if (track) categoryId = track.category_id;
    render();
  }

  function togglePlay() {
    Promise.resolve(player.toggle()).catch((error) => say(`The video cannot play: ${error.message}`, "error"));
  }

  // --- controls ------------------------------------------------------------------------------
  const actions = {
    back: () => player.seek(player.frame - 1), forward: () => player.seek(player.frame + 1),
    play: togglePlay, track: newTrackNext, outside: toggleOutside,
    occluded: toggleOccluded, delete: () => remove(false),
  };
  for (const button of root.querySelectorAll("[data-tracks-do]")) {
    button.addEventListener("click", () => {
      actions[button.dataset.tracksDo]();
      root.focus({ preventScroll: true }); // so Space goes on playing, not pressing the button
    });
  }
  list.addEventListener("pointerdown", (event) => {
    const row = event.target.closest("[data-track-row]");
    if (!row) return;
    const lane = event.target.closest("[data-lane]");
    const frame = lane ? frameUnder(event, lane, clip) : null;
    select(Number(row.dataset.trackRow));
    if (frame !== null) player.seek(frame);
  });
  ruler.addEventListener("pointerdown", (event) => {
    ruler.setPointerCapture?.(event.pointerId);
    const follow = (e) => player.seek(frameUnder(e, ruler, clip));
    follow(event);
    ruler.addEventListener("pointermove", follow);
    ruler.addEventListener("pointerup", () => ruler.removeEventListener("pointermove", follow), { once: true });
  });
  new ResizeObserver(() => render()).observe(stage);
  renderPicker();
  render();

  const keys = {
    ",": () => player.seek(player.frame - 1), ".": () => player.seek(player.frame + 1),
    "<": () => player.seek(player.frame - 10), ">": () => player.seek(player.frame + 10),
    Home: () => player.seek(0), End: () => player.seek(clip.last), " ": togglePlay,
    n: newTrackNext, o: toggleOutside, h: toggleOccluded, c: toggleOccluded,
    k: () => jumpKeyframe(1), K: () => jumpKeyframe(-1),
    Delete: (event) => remove(event.shiftKey), Backspace: (event) => remove(event.shiftKey),
    Escape: () => (selected === null ? false : newTrackNext()),
  };
  return {
    onKey(event) {
      const chosen = categoryForKey(event, categories);
      if (chosen) {
        pick(chosen.id);
        return true;
      }
      const action = keys[event.key] || keys[event.key.toLowerCase()];
      if (!action) return false;
      return action(event) !== false;
    },
    show(payload) {
      tracks = copyTracks(payload);
      saved = copyTracks(payload);
      if (!selectedTrack()) selected = null;
      say("");
      render();
    },
  };
}

/**
 * A saved payload, read-only (the item page's annotation list): the video with the boxes on the
 * frame shown, and the tracks' lanes; a click on a lane or the ruler goes to that frame, one on the
 * video plays or pauses it.
 */
export function view({ root, payload, categories, item }) {
  ensureStyles(STYLES);
  const clip = clipOf(item, "keyframes cannot be placed on frames");
  const tracks = copyTracks(payload);
  const byId = new Map(categories.map((c) => [c.id, c]));
  root.classList.add("tracks-view");
  const stage = element("div", "tracks-stage");
  const video = element("video", "", { preload: "metadata", muted: "", playsinline: "" });
  const svg = element("svg:svg", "tracks-overlay", { preserveAspectRatio: "none", "aria-hidden": "true" });
  stage.append(video, svg);
  const caption = element("p", "tracks-view-caption muted");
  const ruler = element("div", "tracks-ruler");
  const list = element("ol", "tracks-list");
  const timeline = element("div", "tracks-timeline");
  timeline.append(ruler, list);
  root.replaceChildren(stage, caption, timeline);
  const player = framePlayer(video, clip, item, () => render());
  function render() {
    if (!clip.width) Object.assign(clip, { width: video.videoWidth, height: video.videoHeight });
    if (clip.width && clip.height) {
      stage.style.aspectRatio = `${clip.width} / ${clip.height}`;
      drawBoxes(svg, { clip, tracks, frame: player.frame, byId });
    }
    caption.textContent = `frame ${player.frame} / ${clip.last} · ${plural(tracks.length, "track")}`;
    list.replaceChildren(...tracks.map((t) => trackRow(t, { clip, byId, frame: player.frame, selected: null })));
    drawRuler(ruler, clip);
    placePlayheads(root, clip, player.frame);
  }
  video.addEventListener("loadedmetadata", render);
  for (const strip of [ruler, list]) {
    strip.addEventListener("click", (event) => {
      const lane = event.target.closest(".tracks-lane, .tracks-ruler");
      if (lane) player.seek(frameUnder(event, lane, clip));
    });
  }
  stage.addEventListener("click", () => Promise.resolve(player.toggle()).catch(() => {}));
  new ResizeObserver(render).observe(stage);
  render();
}
