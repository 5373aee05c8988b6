// Pages that list payloads (gold answers, the review grid's tiles) draw each with its editor's view(), from the
// page's #views-state: { categories, editors: [{ name, module }] } (static/editors.js).
import { mountViews } from "/static/editors.js";

const state = JSON.parse(document.getElementById("views-state").textContent);
mountViews({ state });
// What htmx swaps in (the review grid after a decision) is drawn too.
document.body.addEventListener("htmx:afterSettle", () => mountViews({ state }));
