// "Label" links lead to a page that takes the next item with a POST (a GET claims nothing).
// It is sent at once, except when the page is reached again through the history (Back), which
// would otherwise take another item and move forward again.
const form = document.querySelector("[data-take-next]");
const [navigation] = performance.getEntriesByType("navigation");
if (form && navigation?.type !== "back_forward") form.requestSubmit();
