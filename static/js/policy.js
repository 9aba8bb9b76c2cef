// Small behaviours of the policy pages; everything works without them, only less smoothly.

// After an htmx save the server sends the draft's new revision (HX-Trigger
// "revision-changed"): every other form on the page now starts from it.
document.body.addEventListener("revision-changed", (event) => {
  const revision = String(event.detail.revision);
  document.querySelectorAll("input[name=revision]").forEach((input) => { input.value = revision; });
  document.querySelectorAll("[data-revision]").forEach((el) => { el.textContent = revision; });
});

// Threshold rows: a range slider and a number input per level, kept in step,
// and the action ladder bar redrawn from them.
function drawLadder(row) {
  const bar = row.querySelector(".ladder");
  if (!bar) return;
  const review = parseFloat(row.querySelector("input[type=number][name=review_at]").value) || 0;
  const block = parseFloat(row.querySelector("input[type=number][name=block_at]").value) || 0;
  const low = Math.min(review, block), high = Math.max(review, block);
  bar.querySelector(".band-allow").style.width = `${low * 100}%`;
  bar.querySelector(".band-review").style.width = `${(high - low) * 100}%`;
  bar.querySelector(".band-block").style.width = `${(1 - high) * 100}%`;
}

document.addEventListener("input", (event) => {
  const input = event.target;
  const row = input.closest("[data-ladder]");
  if (!row || !input.dataset.level) return;
  const level = input.dataset.level;
  row.querySelectorAll(`[data-level=${level}]`).forEach((peer) => {
    if (peer !== input) peer.value = input.value;
  });
  drawLadder(row);
});

// New policy: suggest a slug from the name until the user types one.
document.addEventListener("input", (event) => {
  if (event.target.id !== "id_name" || !event.target.form) return;
  const slug = event.target.form.querySelector("#id_slug[data-suggest]");
  if (!slug || slug.dataset.touched) return;
  slug.value = event.target.value.normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60);
});
document.addEventListener("input", (event) => {
  if (event.target.id === "id_slug") event.target.dataset.touched = "1";
});

// Concept images: drop files on the zone to put them in the file input.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-dropzone]").forEach((zone) => {
    const input = zone.querySelector("input[type=file]");
    const label = zone.querySelector("[data-dropzone-label]");
    const show = () => { label.textContent = `${input.files.length} file(s) chosen: ${[...input.files].map((f) => f.name).join(", ")}`; };
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragging"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dragging");
      input.files = e.dataTransfer.files;
      show();
    });
    input.addEventListener("change", show);
  });
});
