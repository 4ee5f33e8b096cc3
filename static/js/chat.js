// Chat: sends a prompt, reads the server-sent events of the answer, and shows screening results.
// Everything that comes from users or the model is inserted as text, except the answer's HTML, which the
// server renders from Markdown without raw HTML and sanitises with an allow-list.
(function () {
  "use strict";

  const form = document.getElementById("prompt-form");
  if (!form) return;
  const textarea = document.getElementById("prompt");
  const list = document.getElementById("messages");
  const sendButton = document.getElementById("send-button");
  const stopButton = document.getElementById("stop-button");
  const regenerateButton = document.getElementById("regenerate-button");
  const statusLine = document.getElementById("chat-status");
  const screenBox = document.getElementById("screen-result");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  let controller = null;

  const fmt = (n) => Number(n || 0).toLocaleString("ja-JP");

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function updateCounters(c) {
    if (!c) return;
    const box = document.getElementById("usage-counter");
    if (!box) return;
    const tenant = box.querySelector("[data-testid=tenant-used]");
    const user = box.querySelector("[data-testid=user-used]");
    if (tenant) tenant.textContent = fmt(c.tenant_used);
    if (user) user.textContent = fmt(c.user_used);
    const meter = box.querySelector(".meter");
    if (meter) {
      meter.setAttribute("aria-valuenow", c.tenant_percent);
      meter.querySelector("span").style.width = c.tenant_percent + "%";
    }
  }

  function addUserMessage(text) {
    const article = el("article", "msg msg-user");
    article.appendChild(el("h2", "visually-hidden", "あなた"));
    article.appendChild(el("div", "msg-body plain", text));
    list.appendChild(article);
    return article;
  }

  function addAssistantMessage() {
    const article = el("article", "msg msg-assistant");
    article.appendChild(el("h2", "visually-hidden", "AIの回答"));
    const body = el("div", "msg-body markdown streaming");
    article.appendChild(body);
    const tools = el("div", "msg-tools");
    for (const [helpful, mark, label] of [["1", "👍", "役に立った"], ["0", "👎", "役に立たなかった"]]) {
      const button = el("button", "button small feedback-button", mark);
      button.type = "button";
      button.dataset.helpful = helpful;
      button.setAttribute("aria-label", label);
      tools.appendChild(button);
    }
    const copy = el("button", "button small copy-button", "コピー");
    copy.type = "button";
    tools.appendChild(copy);
    article.appendChild(tools);
    list.appendChild(article);
    return { article, body };
  }

  function showScreening(data, originalText) {
    screenBox.replaceChildren();
    screenBox.hidden = false;
    const title = data.decision === "block"
      ? "個人情報または禁止語が含まれているため、送信しませんでした。該当箇所を修正してください。"
      : "個人情報の可能性がある箇所が見つかりました。修正するか、該当箇所をマスクして送信してください。";
    screenBox.appendChild(el("p", "screen-title", title));
    const preview = el("p", "screen-preview");
    let cursor = 0;
    const findings = (data.findings || []).slice().sort((a, b) => a.start - b.start);
    for (const f of findings) {
      if (f.start < cursor) continue;
      preview.appendChild(document.createTextNode(data.text.slice(cursor, f.start)));
      const mark = el("mark", "finding", data.text.slice(f.start, f.end));
      mark.title = f.label + "：" + f.reason;
      preview.appendChild(mark);
      cursor = f.end;
    }
    preview.appendChild(document.createTextNode(data.text.slice(cursor)));
    screenBox.appendChild(preview);
    const ul = el("ul", "finding-list");
    for (const f of findings) {
      ul.appendChild(el("li", null, f.label + "「" + data.text.slice(f.start, f.end) + "」：" + f.reason));
    }
    screenBox.appendChild(ul);
    const actions = el("div", "screen-actions");
    const edit = el("button", "button", "修正する");
    edit.type = "button";
    edit.addEventListener("click", () => { screenBox.hidden = true; textarea.focus(); });
    actions.appendChild(edit);
    if (data.can_mask) {
      const mask = el("button", "button primary", "マスクして送信");
      mask.type = "button";
      mask.addEventListener("click", () => { screenBox.hidden = true; send(originalText, { mask: true }); });
      actions.appendChild(mask);
      actions.appendChild(el("p", "muted small", "送信される内容: " + data.masked_text));
    }
    screenBox.appendChild(actions);
    screenBox.focus();
  }

  function showNotice(message, kind) {
    screenBox.replaceChildren(el("p", "screen-title " + (kind || ""), message));
    screenBox.hidden = false;
    screenBox.focus();
  }

  function setBusy(busy) {
    sendButton.disabled = busy;
    textarea.readOnly = busy;
    stopButton.hidden = !busy;
    statusLine.textContent = busy ? "回答を生成しています…" : "";
  }

  async function send(text, options) {
    options = options || {};
    screenBox.hidden = true;
    const body = new FormData();
    body.append("prompt", text);
    body.append("conversation", form.dataset.conversation || "");
    body.append("model", document.getElementById("model-select").value);
    form.querySelectorAll("input[name=collections]:checked").forEach((box) => body.append("collections", box.value));
    if (options.mask) body.append("mask", "1");
    if (options.regenerate) body.append("regenerate", "1");

    controller = new AbortController();
    setBusy(true);
    let userArticle = null;
    let assistant = null;
    let raw = "";
    let finished = false;
    try {
      const response = await fetch(form.action, {
        method: "POST", body, signal: controller.signal,
        headers: { "X-CSRFToken": csrf, "Accept": "text/event-stream" },
        credentials: "same-origin",
      });
      if (!response.ok || !response.body) {
        let message = "送信できませんでした（" + response.status + "）。ページを再読み込みしてください。";
        try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
        showNotice(message, "error");
        return;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let split;
        while ((split = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          let name = "message";
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) name = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          const payload = data ? JSON.parse(data) : {};
          if (name === "screened") { showScreening(payload, text); finished = true; }
          else if (name === "refused" || name === "error") {
            showNotice(payload.message, "error"); updateCounters(payload.counters); finished = true;
          } else if (name === "start") {
            if (!options.regenerate) userArticle = addUserMessage(payload.sent_text || text);
            else {
              const last = list.querySelector(".msg-assistant:last-of-type");
              if (last) last.remove();
            }
            if (payload.sent_text) {
              statusLine.textContent = "個人情報をマスクして送信しました。";
            }
            assistant = addAssistantMessage();
            if (!form.dataset.conversation) {
              form.dataset.conversation = payload.conversation_id;
              history.replaceState(null, "", payload.conversation_url);
              const conversations = document.querySelector(".conversation-list");
              if (conversations) {
                const item = el("li");
                const link = el("a", null, text.trim().split("\n")[0].slice(0, 40));
                link.href = payload.conversation_url;
                link.setAttribute("aria-current", "page");
                item.appendChild(link);
                conversations.querySelectorAll("li.muted").forEach((n) => n.remove());
                conversations.prepend(item);
              }
            }
            regenerateButton.hidden = false;
            updateCounters(payload.counters);
            textarea.value = "";
          } else if (name === "delta" && assistant) {
            raw += payload.text;
            if (!assistant.body.dataset.html) assistant.body.textContent = raw;
          } else if (name === "html" && assistant) {
            assistant.body.dataset.html = "1";
            assistant.body.innerHTML = payload.html;  // sanitised on the server (chat/rendering.py)
          } else if (name === "done") {
            finished = true;
            if (assistant) {
              assistant.body.classList.remove("streaming");
              assistant.article.querySelector(".msg-tools").dataset.messageId = payload.message_id;
              if (payload.citations && payload.citations.length) {
                const box = el("div", "citations");
                box.dataset.testid = "citations";
                box.setAttribute("data-testid", "citations");
                box.appendChild(el("strong", null, "根拠"));
                const ol = el("ol");
                for (const c of payload.citations) {
                  const li = el("li");
                  li.value = c.number;
                  const link = el("a", null, c.title);
                  link.href = c.url;
                  li.appendChild(link);
                  if (c.position) li.appendChild(document.createTextNode("（" + c.position + "）"));
                  li.appendChild(el("br"));
                  li.appendChild(el("small", "muted", (c.excerpt || "").slice(0, 120)));
                  ol.appendChild(li);
                }
                box.appendChild(ol);
                assistant.article.insertBefore(box, assistant.article.querySelector(".msg-tools"));
              }
              if (payload.status !== "complete") {
                assistant.article.insertBefore(
                  el("p", "msg-note", (payload.status === "failed" ? "失敗" : "途中で終了") + "：" + payload.note),
                  assistant.article.querySelector(".msg-tools"));
              }
            }
            updateCounters(payload.counters);
          }
        }
      }
      if (!finished && assistant) {
        assistant.article.appendChild(el("p", "msg-note", "通信が途中で切れました。回答は途中までです。"));
      }
    } catch (err) {
      if (err.name === "AbortError") {
        if (assistant) assistant.article.appendChild(el("p", "msg-note", "回答の生成を停止しました。"));
      } else {
        showNotice("通信エラーが発生しました。ネットワークを確認して再度お試しください。", "error");
      }
    } finally {
      setBusy(false);
      controller = null;
      if (userArticle === null && !finished) textarea.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = textarea.value;
    if (!text.trim()) {
      showNotice("依頼内容が空です。質問や依頼を入力してください。", "error");
      textarea.focus();
      return;
    }
    send(text);
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  stopButton.addEventListener("click", () => { if (controller) controller.abort(); });
  regenerateButton.addEventListener("click", () => send("", { regenerate: true }));

  // 👍/👎: collected per knowledge base for the administrators' diagnostics.
  list.addEventListener("click", async (event) => {
    const button = event.target.closest(".feedback-button");
    if (!button) return;
    const tools = button.closest(".msg-tools");
    if (!tools.dataset.messageId) return;
    const body = new FormData();
    body.append("helpful", button.dataset.helpful);
    const response = await fetch("/chat/messages/" + tools.dataset.messageId + "/feedback/", {
      method: "POST", body, headers: { "X-CSRFToken": csrf }, credentials: "same-origin" });
    tools.querySelectorAll(".feedback-button").forEach((b) => b.setAttribute("aria-pressed", "false"));
    if (response.ok) button.setAttribute("aria-pressed", "true");
  });

  // Copy an answer. LGWAN pages are often plain http, where navigator.clipboard is unavailable.
  list.addEventListener("click", async (event) => {
    const button = event.target.closest(".copy-button");
    if (!button) return;
    const text = button.closest(".msg").querySelector(".msg-body").innerText;
    try {
      if (navigator.clipboard && window.isSecureContext) await navigator.clipboard.writeText(text);
      else {
        const scratch = el("textarea");
        scratch.value = text;
        scratch.setAttribute("readonly", "");
        scratch.style.position = "fixed";
        scratch.style.opacity = "0";
        document.body.appendChild(scratch);
        scratch.select();
        document.execCommand("copy");
        scratch.remove();
      }
      button.textContent = "コピーしました";
      setTimeout(() => { button.textContent = "コピー"; }, 2000);
    } catch (e) {
      button.textContent = "コピーできませんでした";
    }
  });
})();
