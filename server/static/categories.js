// A refused change answers 422 (or 404 for a vanished category) with the editor and the
// message in it: swap it in like a success, so the message shows and nothing typed is lost.
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if ((status === 422 || status === 404) && event.detail.target.id === "categories-editor") {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
