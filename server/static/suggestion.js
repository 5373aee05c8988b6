// The labeling page's suggestion cards: what the project's active model says of the item, one
// card per annotation type, above the editors. The page's state holds the suggestions as the
// annotator may see them (the JSON of GET /api/v1/items/{id}/suggestions); under anti-anchoring
// a hidden one only says that it waits, and reveal() shows it once their own label is saved.
// Accepting and dismissing belong to the page (label.js): accepting goes through its outbox.
// Nothing here reads a payload: it is drawn by its editor's view() (the page's draw), and
// whether the annotator's label agrees with it the server says, by the type's agreement
// (agrees_with_yours; the page asks again after each of their saves).

const OUTCOMES = {
  accepted: "You accepted this suggestion.",
  rejected: "You dismissed this suggestion.",
};

const percent = (score) => `${Math.round(score * 100)}%`;

/**
 * Mount the cards in ``root`` from ``suggestions`` and return
 * { visible(type) -> suggestion | null, waiting(type) -> bool, reveal(list), decided(type, outcome) }.
 * ``mine(type)`` is the annotator's current payload (whether they have one: the verdict "your
 * label agrees / differs" is the server's agrees_with_yours); ``draw(type, payload, node)``
 * draws a payload into node (the type's view; it may leave node as it is);
 * ``accept(suggestion)`` and ``dismiss(suggestion)`` are the page's actions behind the buttons.
 */
export function mountSuggestions({ root, suggestions, mine, draw, accept, dismiss }) {
  const byType = new Map(suggestions.map((s) => [s.annotation_type, s]));
  const expanded = new Set();

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A payload as its type's view draws it; until then (or without a view), a generic line.
  function describe(type, payload) {
    const node = element("span", "suggestion-label");
    node.append(element("strong", "", "Model suggestion"));
    draw?.(type, payload, node);
    return node;
  }

  function bar(score, label) {
    const meter = element("div", "confidence");
    meter.setAttribute("role", "meter");
    meter.setAttribute("aria-label", label);
    meter.setAttribute("aria-valuemin", "0");
    meter.setAttribute("aria-valuemax", "100");
    meter.setAttribute("aria-valuenow", String(Math.round(score * 100)));
    const fill = element("span");
    fill.style.width = percent(score);
    meter.append(fill);
    return meter;
  }

  function verdict(suggestion) {
    if (suggestion.decision in OUTCOMES) return element("p", "suggestion-verdict", OUTCOMES[suggestion.decision]);
    if (!mine(suggestion.annotation_type) || typeof suggestion.agrees_with_yours !== "boolean") return null;
    const agrees = suggestion.agrees_with_yours;
    const note = element("p", `suggestion-verdict ${agrees ? "agrees" : "differs"}`);
    note.dataset.suggestionVerdict = agrees ? "agrees" : "differs";
    note.append(element("span", "", agrees ? "Your label agrees with the model." : "Your label differs from the model's."));
    if (!agrees) {
      const hint = element("small", "suggestion-hint");
      hint.append(element("kbd", "", "A"), " takes the model's · ", element("kbd", "", "→"), " keeps yours");
      note.append(hint);
    }
    return note;
  }

  function card(suggestion) {
    const type = suggestion.annotation_type;
    const section = element("section", "card suggestion-card");
    section.dataset.suggestion = type;
    section.setAttribute("aria-label", "Model suggestion");
    const head = element("div", "card-head");
    head.append(element("h2", "", "Suggestion"));
    section.append(head);
    if (suggestion.hidden) {
      section.classList.add("waiting");
      section.dataset.suggestionState = "hidden";
      section.append(element("p", "suggestion-waiting",
                             "A model suggestion is waiting — it shows after your own first label."));
      return section;
    }
    section.dataset.suggestionState = suggestion.decision || "shown";
    head.append(element("span", "suggestion-model", `${suggestion.model_name} ${suggestion.model_version}`));
    const top = element("div", "suggestion-top");
    top.append(describe(type, suggestion.payload), element("span", "suggestion-score", percent(suggestion.score)));
    section.append(top, bar(suggestion.score, "Model confidence"));
    const note = verdict(suggestion);
    if (note) section.append(note);

    const actions = element("div", "actions suggestion-actions");
    const take = element("button", "button small primary");
    take.type = "button";
    take.dataset.suggestionAccept = "";
    take.title = "Accept the model's suggestion (A)";
    take.append("Accept ", element("kbd", "", "A"));
    take.addEventListener("click", () => accept(suggestion));
    actions.append(take);
    if (!suggestion.decision) {
      const drop = element("button", "button small", "Dismiss");
      drop.type = "button";
      drop.dataset.suggestionDismiss = "";
      drop.addEventListener("click", () => dismiss(suggestion));
      actions.append(drop);
    }
    const ranked = [{ payload: suggestion.payload, score: suggestion.score }, ...suggestion.alternatives];
    if (ranked.length > 1) {
      const open = expanded.has(type);
      const more = element("button", "linklike suggestion-more", `${open ? "Hide" : "Show"} top ${ranked.length}`);
      more.type = "button";
      more.dataset.suggestionMore = "";
      more.setAttribute("aria-expanded", String(open));
      more.addEventListener("click", () => {
        open ? expanded.delete(type) : expanded.add(type);
        render();
      });
      actions.append(more);
      section.append(actions);
      if (open) {
        const list = element("ol", "suggestion-alternatives");
        list.dataset.suggestionAlternatives = "";
        for (const candidate of ranked) {
          const row = element("li");
          row.append(describe(type, candidate.payload), element("span", "suggestion-score", percent(candidate.score)),
                     bar(candidate.score, "Score"));
          list.append(row);
        }
        section.append(list);
      }
    } else {
      section.append(actions);
    }
    return section;
  }

  function render() {
    root.replaceChildren(...[...byType.values()].map(card));
  }

  render();
  return {
    /** The suggestion of ``type`` the annotator may take now, or null. */
    visible(type) {
      const suggestion = byType.get(type);
      return suggestion && !suggestion.hidden ? suggestion : null;
    },
    /** Whether a suggestion of ``type`` waits for the annotator's own first label. */
    waiting(type) {
      return Boolean(byType.get(type)?.hidden);
    },
    types: () => [...byType.keys()],
    /** Show what the API now says (after the annotator's own label was saved). */
    reveal(list) {
      for (const suggestion of list) byType.set(suggestion.annotation_type, suggestion);
      render();
    },
    decided(type, outcome) {
      const suggestion = byType.get(type);
      if (suggestion) suggestion.decision = outcome;
      render();
    },
    render,
  };
}
