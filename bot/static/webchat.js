// Closing Coach web chat. Every piece of text goes into the page through textContent:
// nothing a person (or the coach) writes is ever parsed as HTML.
"use strict";

(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const sendButton = document.getElementById("send");
  const status = document.getElementById("status");
  let strings = { offline: "The coach can't be reached right now." };
  let busy = false;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function showMine(text) {
    const li = el("li", "msg msg--me", text);
    li.dataset.role = "me";
    log.appendChild(li);
    scrollDown();
  }

  function showBot(m) {
    const li = el("li", "msg msg--bot msg--" + m.kind);
    li.dataset.role = "bot";
    li.dataset.kind = m.kind;
    if (m.title) li.appendChild(el("div", "msg__title", m.title));
    if (m.text) li.appendChild(el("div", "msg__text", m.text));
    if (m.items && m.items.length) {
      const ul = el("ul", "msg__items");
      m.items.forEach((item) => ul.appendChild(el("li", null, item)));
      li.appendChild(ul);
    }
    if (m.buttons && m.buttons.length) {
      const row = el("div", "msg__buttons");
      m.buttons.forEach((b) => {
        const button = el("button", null, b.label);
        button.type = "button";
        button.dataset.value = b.value;
        button.addEventListener("click", () => {
          if (busy) return;
          row.querySelectorAll("button").forEach((x) => { x.disabled = true; });
          send(b.value, b.label, m.expect);
        });
        row.appendChild(button);
      });
      li.appendChild(row);
    }
    log.appendChild(li);
    scrollDown();
  }

  function applyStrings(body) {
    if (!body.strings) return;
    strings = body.strings;
    document.documentElement.lang = body.locale;
    document.getElementById("title").textContent = strings.title;
    document.title = strings.title;
    input.placeholder = strings.placeholder;
    sendButton.textContent = strings.send;
  }

  async function call(path, payload) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(payload || {}),
    });
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }

  async function send(value, shown, expect) {
    busy = true;
    status.hidden = true;
    showMine(shown);
    try {
      const body = await call("/webchat/messages", { text: value, expect: expect || null });
      applyStrings(body);
      body.messages.forEach(showBot);
    } catch (err) {
      status.textContent = strings.offline;
      status.hidden = false;
    } finally {
      busy = false;
      input.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim() || busy) return;
    input.value = "";
    send(text, text, null);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  call("/webchat/session", {})
    .then((body) => { applyStrings(body); body.messages.forEach(showBot); document.body.dataset.ready = "1"; })
    .catch(() => { status.textContent = strings.offline; status.hidden = false; });
})();
