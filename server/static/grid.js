// The item grid's selection: "Select all on this page" and the "n selected" count. The
// listener sits on the document, so it keeps working after htmx swaps the grid in.

function showCount(form) {
  const out = form.querySelector("[data-selected-count]");
  if (out) out.textContent = `${form.querySelectorAll("input[name=item_ids]:checked").length} selected`;
}

document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.form) return;
  if (input.id === "select-page") {
    for (const box of input.form.querySelectorAll("input[name=item_ids]")) box.checked = input.checked;
  }
  if (input.id === "select-page" || input.name === "item_ids") showCount(input.form);
});
