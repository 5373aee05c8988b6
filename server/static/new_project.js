// Show the classification mode only while classification is ticked (without JavaScript it is
// always shown).
const mode = document.getElementById("classification-mode");
if (mode) {
  const box = mode.form.querySelector('input[name="annotation_types"][value="classification"]');
  const sync = () => { mode.hidden = !box.checked; };
  box.addEventListener("change", sync);
  sync();
}
