// "Go back" on the error page: the previous page in this tab, or the projects list when the
// error page was opened first (a link followed from elsewhere).
for (const link of document.querySelectorAll("a[data-back]")) {
  link.addEventListener("click", (event) => {
    if (window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
}
