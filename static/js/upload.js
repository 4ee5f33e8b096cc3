// Drag-and-drop upload: each file is sent on its own request with its own progress bar, so one bad file never
// blocks the others and staff see what happened to each.
(function () {
  "use strict";
  const zone = document.getElementById("drop-zone");
  if (!zone) return;
  const input = document.getElementById("file-input");
  const list = document.getElementById("upload-list");
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;

  function refreshDocuments() {
    if (window.htmx) {
      htmx.ajax("GET", zone.dataset.uploadUrl.replace(/upload\/$/, "documents/"), { target: "#documents", swap: "outerHTML" });
    }
  }

  function send(file) {
    const item = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = file.name + " ";
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", file.name + " のアップロード");
    const status = document.createElement("span");
    status.className = "muted small";
    item.append(label, bar, status);
    list.appendChild(item);
    const body = new FormData();
    body.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", zone.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); });
    xhr.addEventListener("load", () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 200) {
        bar.value = 100;
        status.textContent = data.note || " 受け付けました。取り込みの状態は下の一覧に表示されます。";
        refreshDocuments();
      } else {
        status.textContent = " " + (data.error || "アップロードできませんでした（" + xhr.status + "）。");
        status.className = "field-error";
      }
    });
    xhr.addEventListener("error", () => { status.textContent = " 通信エラーでアップロードできませんでした。"; status.className = "field-error"; });
    xhr.send(body);
  }

  input.addEventListener("change", () => { Array.from(input.files).forEach(send); input.value = ""; });
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add("dragging"); }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.remove("dragging"); }));
  zone.addEventListener("drop", (e) => Array.from(e.dataTransfer.files).forEach(send));
  zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
})();
