// Forms marked data-confirm="…" ask before they submit (deactivating a user, retiring a model).
// Without JavaScript they submit at once; the server's rules still hold.
document.addEventListener("submit", (event) => {
  const message = event.target instanceof HTMLFormElement ? event.target.dataset.confirm : undefined;
  if (message && !window.confirm(message)) event.preventDefault();
});
