// The upload page (app/web/upload.py): files sent one by one to POST /documents, each row
// following its document's progress every second, then its result, the retry of failed pages
// and the filing into the dossier named. Without this file the form posts to /upload instead.
// Names and reasons are hostile text: only ever set with textContent.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload-form");
  const table = document.getElementById("upload-rows");
  if (!form || !table) return;
  const rows = table.querySelector("tbody");
  const zone = document.getElementById("drop-zone");
  const inputs = [document.getElementById("upload-files"), document.getElementById("upload-folder")];
  const words = table.dataset;
  const csrf = form.dataset.csrf || "";
  const FINISHED = ["done", "partial", "failed"];
  const FILED = ["ok", "reused", "partial"];
  const idle = zone ? zone.textContent : "";
  let dropped = [];
  let filing = Promise.resolve(); // dossier filings one after another

  async function call(method, url, body) {
    const init = { method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf, Accept: "application/json" } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    const answer = await fetch(url, init);
    let data = {};
    try { data = await answer.json(); } catch (_) { /* no JSON body */ }
    if (!answer.ok) throw new Error(data.message || (typeof data.detail === "string" ? data.detail : `HTTP ${answer.status}`));
    return data;
  }

  function cell(tr, className) {
    const td = document.createElement("td");
    td.className = className;
    tr.appendChild(td);
    return td;
  }

  function addRow(shown) {
    const tr = document.createElement("tr");
    const name = cell(tr, "name");
    name.textContent = shown;
    const progress = cell(tr, "progress");
    const label = document.createElement("span");
    const bar = document.createElement("progress");
    progress.append(label, bar);
    const result = cell(tr, "result");
    const reason = cell(tr, "reason");
    rows.appendChild(tr);
    table.hidden = false;
    const row = { tr, name, label, bar, result, reason };
    setResult(row, "uploading", "");
    return row;
  }

  function setResult(row, result, reason) {
    const key = "t" + result.split(/[ _-]/).map((w) => w[0].toUpperCase() + w.slice(1)).join("");
    row.tr.className = `result-${result.replace(" ", "-")}`;
    row.tr.dataset.result = result;
    row.result.textContent = words[key] || result;
    row.reason.textContent = reason;
  }

  function showProgress(row, now) {
    const total = now.page_count || 0;
    row.label.textContent = (words.tPages || "{done}/{total}").replace("{done}", now.pages_done).replace("{total}", total);
    row.bar.max = Math.max(total, 1);
    row.bar.value = now.pages_done;
  }

  async function record(batchId, entry) {
    try { await call("POST", `/batches/${batchId}/documents`, entry); } catch (error) { console.warn("batch", error); }
  }

  function watch(row, id, outcome, dossier) {
    const poll = async () => {
      let now;
      try { now = await call("GET", `/documents/${id}/progress`); } catch (_) { setTimeout(poll, 1000); return; }
      showProgress(row, now);
      if (FINISHED.includes(now.status)) finish(row, id, outcome, now, dossier);
      else setTimeout(poll, 1000);
    };
    poll();
  }

  async function finish(row, id, outcome, now, dossier) {
    const link = document.createElement("a");
    link.href = `/documents/${id}/view`;
    link.textContent = row.name.textContent;
    row.name.replaceChildren(link);
    let result = outcome === "reused" || outcome === "same" ? "reused" : "ok";
    let reason = now.failed_pages.map((p) => `${p.page_no}: ${p.reason}`).join("; ");
    if (now.status !== "done") result = now.status;
    if (now.status === "failed" && !reason) {
      try {
        const doc = await call("GET", `/documents/${id}`);
        reason = doc.errors.length ? doc.errors[doc.errors.length - 1].message : "";
      } catch (error) { reason = error.message; }
    }
    setResult(row, result, reason);
    if (result !== "ok" && result !== "reused") offerRetry(row, id, dossier);
    if (dossier.code && FILED.includes(result)) {
      filing = filing.then(() => call("POST", `/dossiers/${encodeURIComponent(dossier.code)}/documents`, { documents: [id], title: dossier.title || null }))
        .then(() => note(row, (words.tFiled || "{code}").replace("{code}", dossier.code)))
        .catch((error) => note(row, error.message));
    }
  }

  function note(row, text) {
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = text;
    row.reason.appendChild(p);
  }

  function offerRetry(row, id, dossier) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = words.tRetry;
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await call("POST", `/documents/${id}/retry`);
        setResult(row, "pending", "");
        watch(row, id, "new", dossier);
      } catch (error) {
        button.disabled = false;
        note(row, error.message);
      }
    });
    row.reason.appendChild(button);
  }

  async function send(file, batchId, dossier) {
    const row = addRow(file.webkitRelativePath || file.name);
    const body = new FormData();
    body.append("file", file, file.name);
    let answer;
    try {
      answer = await call("POST", "/documents", body);
    } catch (error) {
      setResult(row, "failed", error.message);
      await record(batchId, { name: file.name, error: error.message });
      return;
    }
    setResult(row, "pending", "");
    await record(batchId, { name: file.name, document_id: answer.document_id, outcome: answer.outcome });
    watch(row, answer.document_id, answer.outcome, dossier);
  }

  // Folders dropped on the zone: walked with the entries API (files only).
  async function droppedFiles(items) {
    const found = [];
    const walk = async (entry) => {
      if (entry.isFile) found.push(await new Promise((ok, no) => entry.file(ok, no)));
      else if (entry.isDirectory) {
        const reader = entry.createReader();
        for (;;) {
          const some = await new Promise((ok, no) => reader.readEntries(ok, no));
          if (!some.length) break;
          for (const child of some) await walk(child);
        }
      }
    };
    const roots = [...items].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
    for (const root of roots) await walk(root);
    return found;
  }

  if (zone) {
    zone.hidden = false;
    zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", async (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      const items = event.dataTransfer.items;
      dropped = dropped.concat(items && items.length ? await droppedFiles(items) : [...event.dataTransfer.files]);
      zone.textContent = dropped.length ? dropped.map((f) => f.name).join(", ") : idle;
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const files = inputs.flatMap((input) => (input ? [...input.files] : [])).concat(dropped);
    if (!files.length) { form.submit(); return; } // the server says what is missing
    const dossier = { code: form.elements.dossier.value.trim(), title: form.elements.title.value.trim() };
    let batch;
    try {
      batch = await call("POST", "/batches", { dossier: dossier.code || null, title: dossier.title || null });
    } catch (error) {
      const row = addRow("—");
      setResult(row, "failed", error.message);
      return;
    }
    const link = document.querySelector("#upload-batch a");
    if (link) {
      link.href = batch.url;
      link.textContent = batch.url;
      link.parentElement.hidden = false;
    }
    inputs.forEach((input) => { if (input) input.value = ""; });
    dropped = [];
    if (zone) zone.textContent = idle;
    for (const file of files) await send(file, batch.batch_id, dossier);
  });
});
