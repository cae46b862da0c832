// Closing Coach web chat. Every piece of text goes into the page through textContent:
// nothing a person (or the coach) writes is ever parsed as HTML.
//
// The server's dialog is the truth: on (re)load the page asks it what is open (POST
// /webchat/session answers with the open question, if any). A question's buttons send its token
// (`expect`), so a late click is refused by the server; any other button is sent as a command
// (`command: true`), never as an answer. Buttons go out of date, and are disabled, once the
// conversation has moved on from the moment they were shown in.
"use strict";

(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const sendButton = document.getElementById("send");
  const status = document.getElementById("status");
  const localeBadge = document.getElementById("locale");
  const suggestions = document.getElementById("suggestions");
  // The page arrives with its words in the browser's language; every answer brings them again
  // in the person's language (which "taal nl" / "language en" changes).
  let strings = { offline: status.dataset.offline };
  let busy = false;
  // The open question's token after the last answer ("" when none): the moment every message's
  // buttons belong to (data-context).
  let openToken = "";
  let suggestTimer = null;
  let suggestRound = 0;

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

  function retire(li) {
    li.querySelectorAll("button:not(:disabled)").forEach((b) => { b.disabled = true; });
    li.dataset.stale = "1";
  }

  // Once a question is answered (by a click or by typing), its buttons no longer apply.
  function retireOpenQuestions() {
    log.querySelectorAll("li[data-expect]").forEach(retire);
  }

  function showMine(text) {
    const li = el("li", "msg msg--me", text);
    li.dataset.role = "me";
    log.appendChild(li);
    scrollDown();
  }

  function list(items) {
    const ul = el("ul", "msg__items");
    items.forEach((item) => ul.appendChild(el("li", null, item)));
    return ul;
  }

  function showBot(m) {
    const li = el("li", "msg msg--bot msg--" + m.kind);
    li.dataset.role = "bot";
    li.dataset.kind = m.kind;
    if (m.expect) li.dataset.expect = m.expect;
    if (m.title) li.appendChild(el("div", "msg__title", m.title));
    if (m.text) li.appendChild(el("div", "msg__text", m.text));
    if (m.items && m.items.length) li.appendChild(list(m.items));
    (m.groups || []).forEach((group) => {
      const section = el("section", "msg__group");
      section.appendChild(el("h3", "msg__group-title", group.title));
      section.appendChild(list(group.items));
      li.appendChild(section);
    });
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
    if (m.buttons && m.buttons.length) {
      const row = el("div", "msg__buttons");
      m.buttons.forEach((b) => {
        if (b.url) {
          // A link from the coach (a mailto: draft to send the customer); no other scheme is opened.
          if (/^mailto:/i.test(b.url)) {
            const link = el("a", "msg__link", b.label);
            link.href = b.url;
            row.appendChild(link);
          }
          return;
        }
        const button = el("button", null, b.label);
        button.type = "button";
        button.dataset.value = b.value;
        button.addEventListener("click", () => {
          if (busy || button.disabled) return;
          row.querySelectorAll("button").forEach((x) => { x.disabled = true; });
          button.classList.add("is-chosen");
          send(b.value, b.label, m.expect ? { expect: m.expect } : { command: true });
        });
        row.appendChild(button);
      });
      li.appendChild(row);
    }
    log.appendChild(li);
    scrollDown();
    return li;
  }

  // One answer of the server: its messages, then every earlier message whose buttons were shown
  // at another moment of the conversation is out of date.
  function showAnswer(body) {
    applyStrings(body);
    const shown = body.messages.map(showBot);
    const asked = body.messages.filter((m) => m.expect);
    openToken = asked.length ? asked[asked.length - 1].expect : "";
    log.querySelectorAll("li[data-context]").forEach((li) => {
      if (li.dataset.context !== openToken) retire(li);
    });
    shown.forEach((li) => { li.dataset.context = openToken; });
    suggest();
  }

  function applyStrings(body) {
    if (!body.strings) return;
    strings = body.strings;
    document.documentElement.lang = body.locale;
    document.getElementById("title").textContent = strings.title;
    document.title = strings.title;
    localeBadge.textContent = body.locale;
    input.placeholder = strings.placeholder;
    input.setAttribute("aria-label", strings.label);
    suggestions.setAttribute("aria-label", strings.suggestions);
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

  async function send(value, shown, how) {
    setBusy(true);
    status.hidden = true;
    retireOpenQuestions();
    showSuggestions({ names: [] });
    showMine(shown);
    try {
      const body = await call("/webchat/messages", {
        text: value, expect: how.expect || null, command: how.command === true,
      });
      showAnswer(body);
    } catch (err) {
      status.textContent = strings.offline;
      status.hidden = false;
    } finally {
      setBusy(false);
      input.focus();
    }
  }

  // -- the rep's own customers, offered as they type (GET /webchat/accounts) --
  function showSuggestions(found) {
    suggestions.replaceChildren();
    found.names.forEach((name) => {
      const chip = el("button", "chat__suggestion", name);
      chip.type = "button";
      chip.addEventListener("click", () => {
        if (busy) return;
        const text = found.prefix + name;
        if (found.complete) {
          input.value = "";
          fitInput();
          send(text, text, found.prefix ? {} : { expect: openToken || null });
        } else {
          input.value = text + " ";
          fitInput();
          input.focus();
          suggest();
        }
      });
      suggestions.appendChild(chip);
    });
    suggestions.hidden = found.names.length === 0;
  }

  async function suggest() {
    const round = ++suggestRound;
    try {
      const response = await fetch("/webchat/accounts?q=" + encodeURIComponent(input.value),
        { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const found = await response.json();
      if (round === suggestRound && !busy) showSuggestions(found);
    } catch (err) { /* suggestions are a convenience: typing still works */ }
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
    send(text, text, {});
  });

  input.addEventListener("input", () => {
    fitInput();
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(suggest, 120);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  setBusy(true);
  call("/webchat/session", {})
    .then(showAnswer)
    .catch(() => { status.textContent = strings.offline; status.hidden = false; })
    .finally(() => { setBusy(false); document.body.dataset.ready = "1"; input.focus(); });

  // -- messages the coach starts itself (nudges, prompts), fetched from /webchat/inbox --
  // Their buttons name what they act on (a meeting), so they stay usable while the chat moves on.
  async function pollInbox() {
    try {
      const response = await fetch("/webchat/inbox", { credentials: "same-origin", cache: "no-store" });
      if (response.ok) (await response.json()).messages.forEach((m) => { showBot(m).dataset.standing = "1"; });
    } catch (err) { /* offline for a moment: the next poll catches up */ }
  }
  setInterval(pollInbox, 5000);
})();
