// Show each annotation type's options only while that type is ticked (without JavaScript they
// are always shown).
for (const options of document.querySelectorAll("fieldset[data-for-type]")) {
  const box = options.form.querySelector(
    `input[name="annotation_types"][value="${CSS.escape(options.dataset.forType)}"]`);
  if (!box) continue;
  const sync = () => { options.hidden = !box.checked; };
  box.addEventListener("change", sync);
  sync();
}
