// The image viewer (templates/image/viewer.html): Fit, 1:1, zoom and pan. Scholia's pages
// mount it for image items and hand what mount() returns to every editor as `viewer`:
//
//   stage     the element that holds the image and zooms with it: draw there (or in `overlay`,
//             an SVG over the image) and what is drawn follows the zoom and the pan
//   overlay   the SVG layer over the image (pointer events off until an editor turns them on)
//   image     the <img>, whose naturalWidth/naturalHeight are the item's pixels
//   zoom(kind, at)  "fit", "actual" (1:1), "in", "out" or "toggle" (between fit and 1:1);
//             with `at` ({x, y} in client pixels) "in" and "out" keep that point where it is
//   scale()   the current zoom (CSS pixels per laid-out image pixel)
//   adjust({brightness, contrast})  how the image is shown (1 = as it is); never the pixels
//   onKey(event)  the viewer's keys (0, +, −); true when it used the key
//   destroy()     stop listening to the window (the page opens another item in place)
//
// The image is laid out at most the viewer's size; the zoom scales that. Fit scales it to
// fill the viewer (small images up, too), 1:1 to one image pixel per CSS pixel. The wheel
// zooms about the cursor, as map and photo viewers do, so what is pointed at stays put.

export function mount({ root }) {
  const viewer = root.querySelector("[data-viewer]");
  const stage = root.querySelector("[data-stage]");
  const image = root.querySelector("[data-image]");
  const overlay = root.querySelector("[data-overlay]");
  let zoom = 1, panX = 0, panY = 0, mode = "fit";
  const place = () => { stage.style.transform = `translate(${panX}px, ${panY}px) scale(${zoom})`; };
  const laidOut = () => image.offsetWidth && image.offsetHeight;
  const fitScale = () => (laidOut() ? Math.min(viewer.clientWidth / image.offsetWidth,
                                                 viewer.clientHeight / image.offsetHeight) : 1);
  const actualScale = () => (laidOut() ? image.naturalWidth / image.offsetWidth : 1);

  function setZoom(kind, at = null) {
    const before = zoom;
    if (kind === "toggle") kind = mode === "fit" ? "actual" : "fit";
    if (kind === "fit" || kind === "actual") {
      mode = kind;
      zoom = kind === "fit" ? fitScale() : actualScale();
      panX = 0;
      panY = 0;
    } else {
      mode = "free";
      const low = Math.min(0.25, fitScale() / 4);
      const high = Math.max(8, fitScale() * 8, actualScale() * 8);
      zoom = Math.min(high, Math.max(low, zoom * (kind === "in" ? 1.25 : 0.8)));
      if (at) {
        // The stage sits centred in the viewer and scales about its centre: move it so the
        // image point under `at` is under `at` again at the new zoom.
        const frame = viewer.getBoundingClientRect();
        const dx = at.x - (frame.left + frame.width / 2);
        const dy = at.y - (frame.top + frame.height / 2);
        panX = dx - (zoom / before) * (dx - panX);
        panY = dy - (zoom / before) * (dy - panY);
      }
    }
    place();
  }

  const look = { brightness: 1, contrast: 1 };
  function adjust(change) {
    Object.assign(look, change);
    image.style.filter = look.brightness === 1 && look.contrast === 1 ? ""
      : `brightness(${look.brightness}) contrast(${look.contrast})`;
    for (const input of root.querySelectorAll("[data-adjust]")) {
      input.value = Math.round(look[input.dataset.adjust] * 100);
    }
  }
  const SLIDER_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"]);
  for (const input of root.querySelectorAll("[data-adjust]")) {
    input.addEventListener("input", () => adjust({ [input.dataset.adjust]: input.value / 100 }));
    // A focused slider's arrows move it, not the page to another item.
    input.addEventListener("keydown", (event) => SLIDER_KEYS.has(event.key) && event.stopPropagation());
  }
  root.querySelector("[data-adjust-reset]")?.addEventListener("click", () => adjust({ brightness: 1, contrast: 1 }));

  if (image.complete) setZoom("fit");
  else image.addEventListener("load", () => mode === "fit" && setZoom("fit"), { once: true });
  const gone = new AbortController();
  window.addEventListener("resize", () => mode === "fit" && setZoom("fit"), { signal: gone.signal });
  viewer.addEventListener("wheel", (event) => {
    event.preventDefault();
    setZoom(event.deltaY < 0 ? "in" : "out", { x: event.clientX, y: event.clientY });
  }, { passive: false });
  viewer.addEventListener("pointerdown", (event) => {
    const start = { x: event.clientX - panX, y: event.clientY - panY };
    const move = (e) => { panX = e.clientX - start.x; panY = e.clientY - start.y; place(); };
    viewer.addEventListener("pointermove", move);
    viewer.addEventListener("pointerup", () => viewer.removeEventListener("pointermove", move), { once: true });
  });
  for (const button of root.querySelectorAll("[data-zoom]")) {
    button.addEventListener("click", () => setZoom(button.dataset.zoom));
  }

  const KEYS = { 0: "toggle", "+": "in", "=": "in", "-": "out" };
  return {
    stage,
    overlay,
    image,
    zoom: setZoom,
    scale: () => zoom,
    adjust,
    destroy: () => gone.abort(),
    onKey(event) {
      const kind = KEYS[event.key];
      if (!kind) return false;
      setZoom(kind);
      return true;
    },
  };
}

// The images fetched ahead, decoded, and kept (the last few) so an <img> of the same URL
// shows at once when the page opens that item.
const ahead = new Map();
const KEEP = 8;

/** Fetch and decode the image of an item the annotator is likely to open next. */
export function preload(item) {
  if (ahead.has(item.media)) return;
  const image = new Image();
  image.src = item.media;
  image.decode().catch(() => {}); // a broken image shows as broken when its item opens
  ahead.set(item.media, image);
  while (ahead.size > KEEP) ahead.delete(ahead.keys().next().value);
}
