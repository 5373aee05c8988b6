// What the video plugin's editors share: a clip's clock from the item's probed metadata, the
// time format annotators read, a category picked by key, and small DOM helpers. The timeline
// (segments.js) and the track editor (tracks.js) both import it.

const SVG = "http://www.w3.org/2000/svg";

/** m:ss.mmm, the clock annotators read frames against. */
export function formatTime(ms) {
  const total = Math.max(0, ms) / 1000;
  const minutes = Math.floor(total / 60);
  const seconds = (total - minutes * 60).toFixed(3).padStart(6, "0");
  return `${minutes}:${seconds}`;
}

/**
 * The clip's clock and frame size from the item's probed metadata: fps, duration (ms), frames,
 * last (the last frame's index), width, height, and ms(frame), where a frame starts. `needs`
 * says in the error what cannot be done without a frame rate.
 */
export function clipOf(item, needs) {
  const meta = item.meta || {};
  const fps = Number(meta.fps);
  if (!(fps > 0)) {
    throw new Error(`the item's metadata has no frame rate (fps), so ${needs}; upload the ` +
                    "video again so it is probed");
  }
  const duration = Number(meta.duration_ms) > 0 ? Number(meta.duration_ms)
    : (1000 * Number(meta.frame_count)) / fps;
  if (!(duration > 0)) throw new Error("the item's metadata gives neither its duration nor its frame count");
  const frames = Number(meta.frame_count) > 0 ? Number(meta.frame_count)
    : Math.max(1, Math.round((duration * fps) / 1000));
  return {
    fps, duration, frames, last: frames - 1,
    width: Number(meta.width) || 0, height: Number(meta.height) || 0,
    ms: (frame) => Math.min((1000 * frame) / fps, duration),
  };
}

/** The category a key picks: digits 1-9 by display order, or a category's own hotkey. */
export function categoryForKey(event, categories) {
  const position = Number(event.key);
  if (Number.isInteger(position) && position >= 1 && position <= 9) return categories[position - 1] || null;
  const key = event.key.toLowerCase();
  return categories.find((c) => c.hotkey && c.hotkey.toLowerCase() === key) || null;
}

/** Load a plugin stylesheet once per page. */
export function ensureStyles(href) {
  if (document.querySelector(`link[rel=stylesheet][href="${href}"]`)) return;
  if ([...document.styleSheets].some((sheet) => sheet.href === href)) return;
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href }));
}

/** An element with a class and attributes; "svg:rect" makes an SVG one. */
export function element(tag, className, attributes = {}) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  if (className) node.setAttribute("class", className);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}
