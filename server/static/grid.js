// The item grid's selection and the review keyboard.
//
// Selection: "Select all on this page", the "n selected" count, and, once the page is
// selected, "Select all N matching": the decision then goes to the server with
// scope=matching and acts on the filter (in batches, server-side), not on the checked boxes.
// Keyboard (review grid only; `?` shows the map): j/k or arrows move between tiles, x or Space
// selects, a / r / n decide, c comments, / searches, [ and ] page, Enter opens the item.
// Listeners sit on the document, so they keep working after htmx swaps the grid in.

function showCount(form) {
  const out = form.querySelector("[data-selected-count]");
  if (!out) return;
  const matching = form.querySelector("[data-review-scope]")?.value === "matching";
  const total = Number(form.dataset.matchingTotal || 0);
  const checked = form.querySelectorAll("input[name=item_ids]:checked").length;
  out.textContent = matching ? `${total.toLocaleString("en")} selected` : `${checked} selected`;
  const offer = form.querySelector("[data-select-matching]");
  if (offer) {
    const boxes = form.querySelectorAll("input[name=item_ids]");
    offer.hidden = !(boxes.length && checked === boxes.length);
    offer.querySelector("[data-select-matching-on]").hidden = matching;
    offer.querySelector("[data-select-matching-note]").hidden = !matching;
  }
}

function setMatching(form, on) {
  const scope = form.querySelector("[data-review-scope]");
  if (scope) scope.value = on ? "matching" : "checked";
  if (!on) {
    const page = form.querySelector("#select-page");
    if (page) page.checked = false;
    for (const box of form.querySelectorAll("input[name=item_ids]")) box.checked = false;
  }
  showCount(form);
}

document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.form) return;
  if (input.id === "select-page") {
    for (const box of input.form.querySelectorAll("input[name=item_ids]")) box.checked = input.checked;
  }
  if (input.id === "select-page" || input.name === "item_ids") {
    // Unchecking anything leaves "all matching": the selection is the boxes again.
    if (!input.checked) setMatching(input.form, false);
    showCount(input.form);
  }
});

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const form = target?.closest("form");
  if (target?.closest("[data-select-matching-on]") && form) setMatching(form, true);
  if (target?.closest("[data-select-matching-off]") && form) setMatching(form, false);
  if (target?.closest("[data-keys-help]")) document.getElementById("review-keys")?.showModal();
  // A rejection needs a comment: ask for it instead of posting an empty one.
  const reject = target?.closest("[data-needs-comment]");
  if (reject && form) {
    const comment = form.querySelector("[data-review-comment]");
    if (comment && !comment.value.trim()) {
      event.preventDefault();
      comment.placeholder = "Say why it is rejected, then press Enter or r";
      comment.dataset.pending = "rejected";
      comment.focus();
    }
  }
});

// Enter in the comment box after r (or after the Reject button) rejects.
document.addEventListener("keydown", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.matches("[data-review-comment]")) return;
  if (event.key === "Enter" && input.value.trim()) {
    event.preventDefault();
    const decision = input.dataset.pending || "approved";
    input.form.querySelector(`button[name=decision][value=${decision}]`)?.click();
  }
  if (event.key === "Escape") { input.blur(); delete input.dataset.pending; }
});

function tiles() { return [...document.querySelectorAll("#review-form .thumb[data-item-id]")]; }

function focusTile(n) {
  const all = tiles();
  if (!all.length) return;
  const tile = all[Math.max(0, Math.min(all.length - 1, n))];
  tile.focus();
  tile.scrollIntoView({ block: "nearest" });
}

function current() {
  const all = tiles();
  return all.indexOf(document.activeElement?.closest(".thumb"));
}

function columns() {
  const all = tiles();
  if (all.length < 2) return 1;
  const top = all[0].offsetTop;
  const n = all.findIndex((t) => t.offsetTop !== top);
  return n === -1 ? all.length : n;
}

function decide(decision) {
  const form = document.getElementById("review-form");
  if (!form) return;
  const none = form.querySelector("[data-review-scope]").value !== "matching"
    && !form.querySelector("input[name=item_ids]:checked");
  if (none) {
    // Nothing checked: the decision is for the focused tile.
    const here = tiles()[current()];
    if (!here) return;
    here.querySelector("input[name=item_ids]").checked = true;
  }
  form.querySelector(`button[name=decision][value=${decision}]`)?.click();
}

document.addEventListener("keydown", (event) => {
  if (!document.getElementById("review-form")) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = event.target instanceof HTMLElement
    && event.target.closest("input:not([type=checkbox]), textarea, select, [contenteditable]");
  if (typing) return;
  const help = document.getElementById("review-keys");
  if (help?.open && event.key !== "Escape") return;
  const form = document.getElementById("review-form");
  const at = current();
  const step = { j: 1, ArrowRight: 1, k: -1, ArrowLeft: -1, ArrowDown: columns(), ArrowUp: -columns() }[event.key];
  let done = true;
  if (step !== undefined) focusTile(at === -1 ? 0 : at + step);
  else if (event.key === "x" || event.key === " ") {
    const box = tiles()[at]?.querySelector("input[name=item_ids]");
    if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
    else done = false;
  } else if (event.key === "A") {
    const page = form.querySelector("#select-page");
    if (page && page.checked && form.querySelector("[data-select-matching]:not([hidden])")) setMatching(form, true);
    else if (page) { page.checked = true; page.dispatchEvent(new Event("change", { bubbles: true })); }
  } else if (event.key === "a") decide("approved");
  else if (event.key === "n") decide("needs_review");
  else if (event.key === "r") {
    const comment = form.querySelector("[data-review-comment]");
    if (comment.value.trim()) decide("rejected");
    else {
      if (at !== -1 && !form.querySelector("input[name=item_ids]:checked") && form.querySelector("[data-review-scope]").value !== "matching") {
        tiles()[at].querySelector("input[name=item_ids]").checked = true;
        showCount(form);
      }
      comment.dataset.pending = "rejected";
      comment.placeholder = "Say why it is rejected, then press Enter";
      comment.focus();
    }
  } else if (event.key === "c") form.querySelector("[data-review-comment]")?.focus();
  else if (event.key === "/") document.querySelector(".review-search input[name=q]")?.focus();
  else if (event.key === "Enter" || event.key === "o") {
    const link = tiles()[at]?.querySelector("a[href]");
    if (link) link.click(); else done = false;
  } else if (event.key === "]") document.querySelector(".pager a[rel=next]")?.click();
  else if (event.key === "[") document.querySelector(".pager a[rel=prev]")?.click();
  else if (event.key === "?") help?.showModal();
  else done = false;
  if (done) event.preventDefault();
});

// The keyboard starts on the first tile, and stays where it was when a decision swaps the
// grid in (a decided tile keeps its place on the page).
let focusedBefore = null;
document.addEventListener("htmx:beforeRequest", (event) => {
  const from = event.target instanceof Element ? event.target : null;
  if (from?.closest("#review-form, [data-review-continue]")) focusedBefore = Math.max(0, current());
});
document.addEventListener("htmx:afterSwap", () => {
  const form = document.getElementById("review-form");
  if (!form) return;
  showCount(form);
  if (focusedBefore !== null) { focusTile(focusedBefore); focusedBefore = null; }
});
if (document.getElementById("review-form") && !document.activeElement?.closest("input, select, textarea")) focusTile(0);
