// The rating editor's behaviour: hotkeys 1-5, C for the comment, Enter to save.
// Saving goes through Scholia's shared helper, which adds the CSRF header, an idempotency key
// and the revision being corrected, and reports errors with the bad field's path.
import { submitAnnotation } from "/static/editor.js";

for (const form of document.querySelectorAll("[data-rating-editor]")) {
  const status = form.querySelector(".rating-status");
  const comment = form.querySelector("textarea[name=comment]");
  const started = performance.now();
  // Saves run one after another: a second Enter waits for the first save (and its revision
  // id) instead of racing it and being refused as a duplicate.
  let queue = Promise.resolve();
  const save = () => (queue = queue.then(store, store));

  async function store() {
    const checked = form.querySelector("input[name=value]:checked");
    if (!checked) {
      status.textContent = "Pick a rating first (1–5).";
      status.dataset.state = "error";
      return;
    }
    status.textContent = "Saving…";
    status.dataset.state = "pending";
    const result = await submitAnnotation({
      itemId: form.dataset.itemId,
      annotationType: "rating",
      payload: { value: Number(checked.value), comment: comment.value },
      supersedesId: form.dataset.revision || null,
      timeSpentMs: Math.round(performance.now() - started),
    });
    if (result.ok) {
      form.dataset.revision = result.annotation.id;
      status.textContent = "Saved.";
      status.dataset.state = "saved";
    } else {
      status.textContent = result.message;
      status.dataset.state = "error";
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });

  document.addEventListener("keydown", (event) => {
    if (event.target === comment) {
      if (event.key === "Escape") comment.blur();
      return;
    }
    if (event.key >= "1" && event.key <= "5") {
      form.querySelector(`input[name=value][value="${event.key}"]`).checked = true;
    } else if (event.key === "c" || event.key === "C") {
      event.preventDefault();
      comment.focus();
    } else if (event.key === "Enter") {
      event.preventDefault();
      save();
    }
  });
}
