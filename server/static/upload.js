// Upload by drag-and-drop or multi-select on the project page (progressive enhancement of the
// plain form in projects/_upload.html). Files go to the JSON API in batches, one request at a
// time, with a progress bar per batch; a summary names every refused file with the reason.
// Re-sending a batch is safe: items are stored by sha256,
// so bytes already in the project come back as "existing", never as duplicates. When items
// were added the page reloads (grid and counters) and shows the same report again. A container
// file (a video into an image project) is kept and split into items in the background: the
// form's options.* fields (how many frames) go with every batch, and after the reload the
// project page's "Frame extraction" panel shows its progress.

const MAX_BATCH_BYTES = 64 * 1024 * 1024;
const RETRIES = 3;

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )scholia_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

function batches(files, size) {
  const out = [];
  let current = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length && (current.length >= size || bytes + file.size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length) out.push(current);
  return out;
}

// Files from a drop, walking into dropped folders where the browser allows it.
async function droppedFiles(dataTransfer) {
  const entries = [...(dataTransfer.items || [])]
    .map((item) => (item.kind === "file" && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
  if (!entries.length || entries.some((entry) => entry === null)) return [...dataTransfer.files];
  const files = [];
  async function walk(entry) {
    if (entry.isFile) {
      files.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const chunk = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!chunk.length) break;
        for (const child of chunk) await walk(child);
      }
    }
  }
  for (const entry of entries) await walk(entry);
  return files;
}

// One multipart POST with upload progress. Resolves {status, body}; rejects on network failure.
function send(url, files, options, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
    for (const [name, value] of options) form.append(name, value);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText || "{}");
      } catch {
        body = {};
      }
      resolve({ status: xhr.status, body });
    });
    xhr.addEventListener("error", () => reject(new Error("network error")));
    xhr.addEventListener("abort", () => reject(new Error("upload aborted")));
    xhr.send(form);
  });
}

function errorMessage(status, body) {
  const error = (body && body.error) || {};
  if (error.message) return error.message;
  if (body && typeof body.detail === "string") return body.detail;
  if (status === 413) return "the request is larger than the server accepts";
  if (status === 401) return "you are signed out; sign in again and retry";
  if (status === 403) return "you may not upload to this project (or the page is stale: reload it)";
  return `the server answered ${status}`;
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const STORED = "scholia:upload-report";

// Reload the page so the grid and every counter show the new items; the report of this upload
// (batch bars and summary) is kept in sessionStorage and shown again after the reload.
function reloadKeepingReport(uploader) {
  const report = {
    path: window.location.pathname,
    status: uploader.querySelector(".upload-status").outerHTML,
    summary: uploader.querySelector(".upload-summary").outerHTML,
  };
  try {
    sessionStorage.setItem(STORED, JSON.stringify(report));
  } catch {
    return; // storage full or disabled: keep the report on screen and skip the reload
  }
  window.location.reload();
}

function restoreReport(uploader) {
  const raw = sessionStorage.getItem(STORED);
  if (!raw) return;
  sessionStorage.removeItem(STORED);
  let report;
  try {
    report = JSON.parse(raw);
  } catch {
    return;
  }
  if (report.path !== window.location.pathname) return;
  for (const key of ["status", "summary"]) {
    const holder = document.createElement("div");
    holder.innerHTML = report[key];
    const restored = holder.firstElementChild;
    const current = uploader.querySelector(`.upload-${key}`);
    if (restored && current && restored.classList.contains(`upload-${key}`)) {
      current.replaceWith(restored);
    }
  }
  uploader.dataset.uploadState = "done";
}

function enhance(uploader) {
  if (uploader.dataset.enhanced) return;
  uploader.dataset.enhanced = "1";
  uploader.classList.add("enhanced");
  const url = uploader.dataset.uploadUrl;
  const batchSize = Number(uploader.dataset.batchSize) || 20;
  const form = uploader.querySelector("form");
  const zone = uploader.querySelector(".dropzone");
  const input = uploader.querySelector("input[type=file]");
  let busy = false;
  restoreReport(uploader);

  // Options of container files (a video's frames): a number shows only under its choice.
  const choices = [...uploader.querySelectorAll("[data-option-choice]")];
  const showOptions = () => {
    for (const choice of choices) {
      for (const field of choice.closest("[data-upload-options]").querySelectorAll("[data-when]")) {
        field.hidden = field.dataset.when !== choice.value;
      }
    }
  };
  for (const choice of choices) choice.addEventListener("change", showOptions);
  showOptions();
  const chosenOptions = () => [...uploader.querySelectorAll("[name^='options.']")]
    .filter((field) => !field.closest("[hidden]"))
    .map((field) => [field.name, field.value]);

  async function upload(files) {
    if (busy || !files.length) return;
    busy = true;
    uploader.dataset.uploadState = "busy";
    uploader.classList.add("busy");
    const status = uploader.querySelector(".upload-status");
    const overall = uploader.querySelector(".upload-overall");
    const list = uploader.querySelector(".upload-batches");
    const box = uploader.querySelector(".upload-summary");
    box.hidden = true;
    box.replaceChildren();
    list.replaceChildren();
    status.hidden = false;
    const groups = batches(files, batchSize);
    const rows = groups.map((group, index) => {
      const row = document.createElement("li");
      row.className = "upload-batch";
      const label = document.createElement("span");
      label.textContent = `Batch ${index + 1} of ${groups.length}`;
      const bar = document.createElement("progress");
      bar.max = 1;
      bar.value = 0;
      bar.setAttribute("aria-label", `Batch ${index + 1} of ${groups.length}`);
      const note = document.createElement("span");
      note.textContent = `${plural(group.length, "file", "files")}, waiting`;
      row.append(label, bar, note);
      list.append(row);
      return { row, bar, note };
    });
    const totals = { created: 0, existing: 0, expanding: 0, errors: [] };
    let sent = 0;
    const showOverall = () => {
      overall.textContent = `Uploading: ${sent} of ${plural(files.length, "file", "files")} sent`;
    };
    showOverall();
    for (const [index, group] of groups.entries()) {
      const { row, bar, note } = rows[index];
      row.scrollIntoView({ block: "nearest" });
      let outcome = null;
      for (let attempt = 0; attempt < RETRIES && !outcome; attempt++) {
        note.textContent = `${plural(group.length, "file", "files")}, uploading` +
          (attempt ? ` (retry ${attempt})` : "");
        try {
          const { status: code, body } = await send(url, group, chosenOptions(), (fraction) => {
            bar.value = fraction;
          });
          if (code >= 200 && code < 300) {
            outcome = body;
          } else if (code >= 500 || code === 429) {
            await wait(500 * 2 ** attempt);
          } else {
            outcome = { created: [], existing: [],
                        errors: group.map((file) => ({ file: file.name, message: errorMessage(code, body) })) };
          }
        } catch {
          await wait(500 * 2 ** attempt);
        }
      }
      if (!outcome) {
        outcome = { created: [], existing: [],
                    errors: group.map((file) => ({ file: file.name, message: "the upload failed (network or server error); try again" })) };
      }
      const created = (outcome.created || []).length;
      const existing = (outcome.existing || []).length;
      const expanding = (outcome.expansions || []).length;
      const errors = outcome.errors || [];
      totals.created += created;
      totals.existing += existing;
      totals.expanding += expanding;
      totals.errors.push(...errors);
      sent += group.length;
      bar.value = 1;
      row.classList.add(errors.length === group.length ? "failed" : "done");
      note.textContent = [`${created} added`, existing ? `${existing} already there` : "",
                          expanding ? `${expanding} being split into items` : "",
                          errors.length ? `${errors.length} refused` : ""].filter(Boolean).join(", ");
      showOverall();
    }
    overall.textContent = `Done: ${plural(files.length, "file", "files")} in ${plural(groups.length, "batch", "batches")}`;
    // Same wording as the page's own upload (the no-JavaScript path), plus the list of refusals.
    box.classList.add("flash");
    box.classList.toggle("error", totals.errors.length > 0);
    box.classList.toggle("success", totals.errors.length === 0);
    const line = document.createElement("span");
    line.className = "upload-counts";
    line.textContent = `${totals.created} added` +
      (totals.existing ? `, ${totals.existing} already in the project (not duplicated)` : "") +
      (totals.expanding ? `, ${totals.expanding} being split into items (see Frame extraction)` : "") + ".";
    box.append(line);
    if (totals.errors.length) {
      box.append(" Not added: ");
      const items = document.createElement("ul");
      items.className = "upload-errors";
      items.setAttribute("aria-label", `${plural(totals.errors.length, "file", "files")} refused`);
      for (const error of totals.errors) {
        const li = document.createElement("li");
        const quoted = `'${error.file}'`;
        const name = document.createElement("strong");
        // Messages usually start with the quoted file name; show it once, in bold.
        const rest = error.message.startsWith(quoted) ? error.message.slice(quoted.length) : `: ${error.message}`;
        name.textContent = error.message.startsWith(quoted) ? quoted : error.file;
        li.append(name, rest);
        items.append(li);
      }
      box.append(items);
    }
    box.hidden = false;
    input.value = "";
    busy = false;
    uploader.classList.remove("busy");
    uploader.dispatchEvent(new CustomEvent("scholia:upload-done", { bubbles: true, detail: totals }));
    if (totals.created || totals.expanding) {
      reloadKeepingReport(uploader);
    } else {
      uploader.dataset.uploadState = "done";
    }
  }

  // Choosing files selects them (as in the plain form); Upload sends them. A drop sends at once.
  const prompt = zone.querySelector(".dropzone-text");
  const promptHTML = prompt.innerHTML;
  const submit = form.querySelector(".upload-submit");
  const submitText = submit.textContent.trim();
  const showSelection = () => {
    const count = input.files.length;
    submit.hidden = count === 0;
    if (count === 0) {
      prompt.innerHTML = promptHTML;
      submit.textContent = submitText;
    } else {
      prompt.textContent = `${plural(count, "file", "files")} selected (choose again to change)`;
      submit.textContent = `${submitText} ${plural(count, "file", "files")}`;
    }
  };
  showSelection();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const files = [...input.files];
    if (!files.length) {
      input.click();
      return;
    }
    upload(files).finally(showSelection);
  });
  input.addEventListener("change", showSelection);
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("dragover");
    });
  }
  for (const type of ["dragleave", "dragend"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragover"));
  }
  zone.addEventListener("drop", async (event) => {
    event.preventDefault();
    zone.classList.remove("dragover");
    if (busy) return;
    upload(await droppedFiles(event.dataTransfer));
  });
  // A file dropped next to the zone must not make the browser navigate away from the page.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());
}

document.querySelectorAll(".uploader").forEach(enhance);
