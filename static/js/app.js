// Behaviours every page may use, loaded by base.html. Pages hold no inline
// script, so that a Content-Security-Policy can forbid inline code.

// A form with data-confirm asks before it submits: the attribute is the question.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// A button with data-print prints the page; a link with data-back goes back.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
  if (event.target.closest("[data-back]")) {
    event.preventDefault();
    window.history.back();
  }
});
