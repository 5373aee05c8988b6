// The empty-queue page has no outbox of its own to run, but a save the server refused stays in
// this browser's outbox (static/label.js) until the annotator retries or discards it: this
// lists those here, each linking to its item's labeling page, where Retry and Discard are.
const note = document.querySelector("[data-refused-note]");
const refused = JSON.parse(localStorage.getItem("scholia.outbox") || "[]").filter((op) => op.refused);
if (note && refused.length) {
  const list = note.querySelector("ul");
  list.replaceChildren(...refused.map((op) => {
    const row = document.createElement("li");
    row.dataset.refusedOp = op.opId;
    const link = document.createElement("a");
    link.href = `/projects/${op.projectId ?? note.dataset.projectId}/label/${op.itemId}`;
    link.textContent = op.itemName || `Item ${op.itemId}`;
    row.append(link, ` · ${op.type}: ${op.refused.message}`);
    return row;
  }));
  note.querySelector("[data-refused-count]").textContent =
    refused.length === 1 ? "1 label was not saved" : `${refused.length} labels were not saved`;
  note.hidden = false;
}
