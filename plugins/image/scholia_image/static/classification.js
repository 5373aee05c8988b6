// Classification editor, and its read-only view (at the end). Scholia's editor host
// (static/editors.js, on the labeling page and the item page) calls mount() with the categories
// (in display order), the project's options for classification, this annotator's current label
// and a save(payload, { advance }) that stores it.
// Keys 1-9 pick the category at that position (multi-label: toggle), as does a category's own
// hotkey when the project gave it one. Single-label saves ask the labeling page to advance.
// Unticking the last category of a multi-label saves null: the label is taken back (the
// classification has no empty label; an item with none ticked is one still to do).

export function mount({ root, categories, options, current, save }) {
  const multi = (options.mode || "single") === "multi";
  const chosen = new Set(current ? current.category_ids : []);
  const buttons = root.querySelector("[data-classification-buttons]");
  root.querySelector("[data-classification-mode]").textContent = multi
    ? "Multi-label: toggle every category that applies."
    : "Single-label: press a category's number.";

  function render() {
    buttons.replaceChildren(...categories.map((category, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "category-button";
      button.dataset.categoryId = category.id;
      button.setAttribute("aria-pressed", chosen.has(category.id));
      button.style.setProperty("--category-color", category.color);
      button.innerHTML = `<kbd>${index < 9 ? index + 1 : ""}</kbd><span></span>`;
      button.querySelector("span").textContent = category.name;
      if (category.hotkey) {
        const own = document.createElement("kbd");
        own.className = "category-hotkey";
        own.textContent = category.hotkey;
        button.append(own);
      }
      button.addEventListener("click", () => choose(category.id));
      return button;
    }));
  }

  function choose(categoryId) {
    if (multi) {
      chosen.has(categoryId) ? chosen.delete(categoryId) : chosen.add(categoryId);
    } else {
      chosen.clear();
      chosen.add(categoryId);
    }
    render();
    const ids = categories.map((c) => c.id).filter((id) => chosen.has(id));
    save(ids.length ? { category_ids: ids } : null, { advance: !multi });
  }

  render();
  return {
    onKey(event) {
      const position = Number(event.key);
      if (Number.isInteger(position) && position >= 1 && position <= 9 && categories[position - 1]) {
        choose(categories[position - 1].id);
        return true;
      }
      const key = event.key.toLowerCase();
      const own = categories.find((c) => c.hotkey && c.hotkey.toLowerCase() === key);
      if (own) {
        choose(own.id);
        return true;
      }
      return false;
    },
    show(payload) {
      chosen.clear();
      for (const id of payload ? payload.category_ids : []) chosen.add(id);
      render();
    },
  };
}

// A saved classification, read-only: its categories as chips in the project's colours. The
// item page, the adjudication page (each version), gold answers and suggestions draw it so.
export function view({ root, payload, categories }) {
  const byId = new Map(categories.map((c) => [c.id, c]));
  root.classList.add("classification-view");
  root.replaceChildren(...(payload?.category_ids || []).map((id) => {
    const category = byId.get(id);
    const chip = document.createElement("span");
    chip.className = "category-chip";
    chip.dataset.categoryId = id;
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = category?.color || "#8a94a6";
    chip.append(swatch, category ? category.name : `category ${id}`);
    return chip;
  }));
}
