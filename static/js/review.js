// The reviewer page: keyboard shortcuts, the blurred image, and the time spent on an item.
// a/f/r/b pick the action, 1-9 toggle categories, v reveals or blurs the image,
// Enter submits, s skips, u undoes the last answer. Keys typed into a text field
// are left alone. The work area is swapped by htmx after each answer, so every
// handler is delegated from the document and the clock restarts on each swap.

(() => {
  let shownAt = performance.now();

  const form = () => document.getElementById("answer-form");
  const submit = (element) => element && element.requestSubmit();
  const typing = (target) =>
    target.closest("textarea, select, [contenteditable]") ||
    (target.matches("input") && !["radio", "checkbox"].includes(target.type));

  function restartClock() {
    shownAt = performance.now();
  }
  document.addEventListener("DOMContentLoaded", restartClock);
  document.addEventListener("htmx:afterSettle", restartClock);

  // Capture phase: the seconds are filled in before htmx reads the form.
  document.addEventListener(
    "submit",
    (event) => {
      if (event.target.id !== "answer-form") return;
      const seconds = event.target.querySelector("input[name=seconds]");
      seconds.value = ((performance.now() - shownAt) / 1000).toFixed(3);
    },
    true,
  );

  function toggleImage() {
    const thumb = document.querySelector("[data-reveal]");
    if (thumb) thumb.classList.toggle("blurred");
  }
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-reveal]")) toggleImage();
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const answer = form();
    const key = event.key.toLowerCase();
    if (key === "enter") {
      if (!answer) return;
      event.preventDefault();
      if (!answer.querySelector("input[name=action]:checked")) {
        answer.querySelector("input[name=action]").reportValidity();
        return;
      }
      submit(answer);
    } else if (key === "v") {
      toggleImage();
    } else if (key === "s") {
      submit(document.getElementById("skip-form"));
    } else if (key === "u") {
      submit(document.getElementById("undo-form"));
    } else if (answer) {
      const input = answer.querySelector(`input[data-key="${key}"]`);
      if (!input) return;
      event.preventDefault();
      input.checked = input.type === "radio" ? true : !input.checked;
    }
  });
})();
