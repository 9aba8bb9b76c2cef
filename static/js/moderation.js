// Small behaviours of the moderation pages (sample sets, live tests, alerts);
// everything works without them, only less smoothly.

// Sample set, "Run a suite": offer only the chosen policy's versions; the
// server refuses any other pairing anyway.
(function () {
  const form = document.querySelector("[data-testid=suite-start]");
  if (!form) return;
  const policy = form.querySelector("select[name=policy]");
  const version = form.querySelector("select[name=version]");
  const sync = () => {
    for (const option of version.querySelectorAll("option[data-policy]")) {
      option.hidden = option.disabled = option.dataset.policy !== policy.value;
    }
    if (version.selectedOptions[0]?.disabled) version.value = "";
  };
  policy.addEventListener("change", sync);
  sync();
})();

// Live test: drop images on the zone to put them in the file input, and list
// the names chosen.
(function () {
  const zone = document.getElementById("dropzone");
  if (!zone) return;
  const input = zone.querySelector("input[type=file]");
  const list = document.getElementById("dropzone-files");
  const show = () => { list.textContent = Array.from(input.files).map(f => f.name).join(", "); };
  input.addEventListener("change", show);
  zone.addEventListener("dragover", e => { e.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", e => {
    e.preventDefault(); zone.classList.remove("dragging");
    input.files = e.dataTransfer.files; show();
  });
})();

// Alert rule form: show only the parameters of the chosen kind.
(function () {
  const kind = document.querySelector("select[name=kind]");
  if (!kind || !document.querySelector(".kind-params")) return;
  const show = () => document.querySelectorAll(".kind-params").forEach(
    f => { f.hidden = f.dataset.kind !== kind.value; });
  kind.addEventListener("change", show); show();
})();

// Live test, text read in an image: pointing at a line outlines its box over the
// image (delegated: results arrive by htmx swaps).
(function () {
  const boxOf = target => {
    const line = target.closest?.(".ocr-lines li[data-box]");
    const figure = line?.closest(".image-text");
    return line && figure?.querySelector(`.ocr-box[data-box="${line.dataset.box}"]`);
  };
  document.addEventListener("mouseover", e => boxOf(e.target)?.classList.add("is-hovered"));
  document.addEventListener("mouseout", e => boxOf(e.target)?.classList.remove("is-hovered"));
})();
