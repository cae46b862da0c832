// Closing Coach web chat. Every piece of text goes into the page through textContent:
// nothing a person (or the coach) writes is ever parsed as HTML.
"use strict";

(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const sendButton = document.getElementById("send");
  const status = document.getElementById("status");
  const localeBadge = document.getElementById("locale");
  const personaBox = document.getElementById("persona-box");
  const personaPick = document.getElementById("persona");
  let forms = 0;
  // The page arrives with its words in the browser's language; every answer brings them again
  // in the person's language (which "taal nl" / "language en" changes).
  let strings = { offline: status.dataset.offline };
  let busy = false;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
    if (on) document.body.dataset.busy = "1";
    else delete document.body.dataset.busy;
  }

  // Once a question is answered (by a click or by typing), its buttons no longer apply.
  function retireOpenQuestions() {
    log.querySelectorAll("li[data-expect] button:not(:disabled)").forEach((b) => { b.disabled = true; });
  }

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
    if (m.expect) li.dataset.expect = m.expect;
    if (m.title) li.appendChild(el("div", "msg__title", m.title));
    if (m.text) li.appendChild(el("div", "msg__text", m.text));
    if (m.items && m.items.length) {
      const ul = el("ul", "msg__items");
      m.items.forEach((item) => ul.appendChild(el("li", null, item)));
      li.appendChild(ul);
    }
    if (m.attachment && /^data:[a-z]+\/[a-z0-9.+-]+;base64,/i.test(m.attachment.url)) {
      // A file from the coach (the digest chart, an export): images inline, anything else a download.
      const file = m.attachment;
      if (file.mime_type === "image/png") {
        const img = el("img", "msg__image");
        img.src = file.url;
        img.alt = file.title || file.filename;
        li.appendChild(img);
      } else {
        const link = el("a", "msg__file", file.title || file.filename);
        link.href = file.url;
        link.download = file.filename;
        li.appendChild(link);
      }
    }
    if (m.form) li.appendChild(formOf(m.form));
    if (m.buttons && m.buttons.length) {
      const row = el("div", "msg__buttons");
      m.buttons.forEach((b) => {
        const button = el("button", null, b.label);
        button.type = "button";
        button.dataset.value = b.value;
        button.addEventListener("click", () => {
          if (busy || button.disabled) return;
          row.querySelectorAll("button").forEach((x) => { x.disabled = true; });
          button.classList.add("is-chosen");
          send(b.value, b.label, m.expect);
        });
        row.appendChild(button);
      });
      li.appendChild(row);
    }
    log.appendChild(li);
    scrollDown();
  }

  // A text to send as it is or edited first (the digest's action point): what goes back is the
  // form's command followed by the text, as if it had been typed.
  function formOf(form) {
    const box = el("div", "msg__form");
    const id = "form-text-" + (++forms);
    const label = el("label", "msg__form-label", form.label);
    label.htmlFor = id;
    box.appendChild(label);
    if (form.hint) box.appendChild(el("div", "msg__form-hint", form.hint));
    const area = el("textarea");
    area.id = id;
    area.rows = 3;
    area.maxLength = form.limit || 500;
    area.value = form.text || "";
    box.appendChild(area);
    const button = el("button", null, form.button);
    button.type = "button";
    button.addEventListener("click", () => {
      const text = area.value.trim();
      if (busy || !text) return;
      button.disabled = true;
      area.readOnly = true;
      send(form.command + " " + text, text, null);
    });
    box.appendChild(button);
    return box;
  }

  // In --demo the page offers the demo team's people: picking one makes this browser that person.
  function applyPersonas(body) {
    if (!body.personas || !body.personas.length) return;
    personaBox.hidden = false;
    document.getElementById("persona-label").textContent = (body.strings || strings).persona || "";
    personaPick.replaceChildren();
    body.personas.forEach((p) => {
      const option = el("option", null, p.label || p.name);
      option.value = p.email;
      option.selected = p.email === body.persona;
      personaPick.appendChild(option);
    });
  }

  personaPick.addEventListener("change", () => {
    if (busy) return;
    setBusy(true);
    status.hidden = true;
    call("/webchat/session", { persona: personaPick.value })
      .then((body) => {
        log.replaceChildren();
        applyStrings(body);
        applyPersonas(body);
        body.messages.forEach(showBot);
      })
      .catch(() => { status.textContent = strings.offline; status.hidden = false; })
      .finally(() => { setBusy(false); input.focus(); });
  });

  function applyStrings(body) {
    if (!body.strings) return;
    strings = body.strings;
    document.documentElement.lang = body.locale;
    document.getElementById("title").textContent = strings.title;
    document.title = strings.title;
    localeBadge.textContent = body.locale;
    input.placeholder = strings.placeholder;
    input.setAttribute("aria-label", strings.label);
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
    setBusy(true);
    status.hidden = true;
    if (!expect) retireOpenQuestions();
    showMine(shown);
    try {
      const body = await call("/webchat/messages", { text: value, expect: expect || null });
      retireOpenQuestions();
      applyStrings(body);
      body.messages.forEach(showBot);
    } catch (err) {
      status.textContent = strings.offline;
      status.hidden = false;
    } finally {
      setBusy(false);
      input.focus();
    }
  }

  function fitInput() {
    input.style.height = "auto";
    input.style.height = input.scrollHeight + 2 + "px";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim() || busy) return;
    input.value = "";
    fitInput();
    send(text, text, null);
  });

  input.addEventListener("input", fitInput);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  setBusy(true);
  call("/webchat/session", {})
    .then((body) => { applyStrings(body); applyPersonas(body); body.messages.forEach(showBot); })
    .catch(() => { status.textContent = strings.offline; status.hidden = false; })
    .finally(() => { setBusy(false); document.body.dataset.ready = "1"; input.focus(); });

  // -- messages the coach starts itself (nudges, prompts), fetched from /webchat/inbox --
  async function pollInbox() {
    try {
      const response = await fetch("/webchat/inbox", { credentials: "same-origin", cache: "no-store" });
      if (response.ok) (await response.json()).messages.forEach(showBot);
    } catch (err) { /* offline for a moment: the next poll catches up */ }
  }
  setInterval(pollInbox, 5000);
})();

