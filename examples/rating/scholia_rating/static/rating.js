// The rating editor: a 1–5 rating with a comment. Copy it to start an editor of your own.
//
// Scholia imports this module and calls mount() once, with the editor's card (root, holding
// templates/rating/editor.html), this annotator's current rating and a save() function. The
// page owns the keyboard and hands keys to onKey(); saving, retries, revisions and showing the
// outcome in the card are the page's job too, so the editor only wires its form.

export function mount({ root, current, save }) {
  const form = root.querySelector("[data-rating-editor]");
  const comment = form.elements.comment;
  const status = root.querySelector("[data-editor-status]");

  function rate(value) {
    form.querySelector(`input[name=value][value="${value}"]`).checked = true;
  }

  function submit() {
    const checked = form.querySelector("input[name=value]:checked");
    if (!checked) {
      // Nothing to send yet: say so here rather than send the server an empty rating.
      status.textContent = "Pick a rating first (1–5).";
      status.dataset.state = "error";
      return;
    }
    // What makes a rating valid (a 1 needs a comment) is checked by the server, in one place;
    // the page shows its message in this card's status line.
    save({ value: Number(checked.value), comment: comment.value });
  }

  function show(payload) {
    for (const input of form.elements.value) input.checked = Number(input.value) === payload?.value;
    comment.value = payload?.comment ?? "";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  // Keys typed in the comment stay there (the page skips text fields); Escape hands the
  // keyboard back to the page.
  comment.addEventListener("keydown", (event) => {
    if (event.key === "Escape") comment.blur();
  });
  show(current);

  return {
    onKey(event) {
      if (/^[1-5]$/.test(event.key)) {
        rate(event.key);
        return true;
      }
      if (event.key === "c" || event.key === "C") {
        comment.focus(); // the page prevents the default, so the "c" is not typed into it
        return true;
      }
      if (event.key === "Enter") {
        submit();
        return true;
      }
      return false;
    },
    show,
  };
}
