// The phrase editor: select characters of the verse (or type their offsets), pick a category,
// save. Scholia calls mount() with the editor's card, the item (its parts among it), the
// project's categories, my current phrase and save() (see the core's static/editors.js).

function verseOf(item) {
  const part = (item.parts || []).find((p) => p.role === "text");
  return part ? part.data.text : "";
}

export function mount({ root, item, categories, current, save }) {
  const form = root.querySelector("[data-verse-editor]");
  const text = root.querySelector("[data-verse-text]");
  text.textContent = verseOf(item);
  for (const category of categories) {
    form.elements.category_id.append(new Option(category.name, String(category.id)));
  }

  // A selection in the verse fills the offsets (characters of the text part, not pixels).
  text.addEventListener("mouseup", () => {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed) return;
    const range = selection.getRangeAt(0);
    form.elements.start.value = Math.min(range.startOffset, range.endOffset);
    form.elements.end.value = Math.max(range.startOffset, range.endOffset);
  });

  function submit() {
    save({
      start: Number(form.elements.start.value),
      end: Number(form.elements.end.value),
      category_id: Number(form.elements.category_id.value),
    });
  }

  function show(payload) {
    form.elements.start.value = payload?.start ?? "";
    form.elements.end.value = payload?.end ?? "";
    if (payload) form.elements.category_id.value = String(payload.category_id);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  show(current);

  return {
    onKey(event) {
      if (event.key === "Enter") {
        submit();
        return true;
      }
      return false;
    },
    show,
  };
}

// Read-only: one saved phrase, as the verse with the phrase marked (item and review pages).
export function view({ root, payload, categories, item }) {
  const verse = verseOf(item);
  const name = categories.find((c) => c.id === payload.category_id)?.name ?? payload.category_id;
  const mark = document.createElement("mark");
  mark.textContent = verse.slice(payload.start, payload.end);
  mark.title = String(name);
  root.replaceChildren(verse.slice(0, payload.start), mark, verse.slice(payload.end));
}
