// Scholia's viewer host: mounts the viewer of the item's modality (a plugin's ES module, see
// register_viewers) in the page's [data-viewer-root], and preloads through it. The labeling
// page, the item page and the adjudication page use it; editors receive what the viewer's
// mount() returns as `viewer` (the image viewer: its stage, overlay and zoom).
//
//   export function mount({ root, item }) { … return { onKey(event), destroy(), … }; }
//       (destroy, optional: let go of listeners outside root when the page opens another item)
//   export function preload(item) { … }   // optional: fetch ahead an item likely opened next

const loaded = new Map();
const load = (module) => {
  if (!loaded.has(module)) loaded.set(module, import(module));
  return loaded.get(module);
};

/** Mount the page's viewer; a Promise of its API, or null (no viewer, or it failed). */
export async function mountViewer({ viewer, item, scope = document }) {
  const root = scope.querySelector("[data-viewer-root]");
  if (!viewer || !root) return null;
  try {
    const api = (await load(viewer.module)).mount({ root, item }) || {};
    root.dataset.viewerMounted = "";
    return api;
  } catch (error) {
    console.error(`Scholia: the viewer ${viewer.module} cannot be used`, error);
    return null;
  }
}

/** Let the viewer fetch ahead what it needs of these items (it decides what, if anything). */
export async function preload({ viewer, items }) {
  if (!viewer || !items.length) return;
  try {
    const module = await load(viewer.module);
    for (const item of items) module.preload?.(item);
  } catch (error) {
    console.error(`Scholia: the viewer ${viewer.module} cannot preload`, error);
  }
}
