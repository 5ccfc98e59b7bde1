/*! Threadline chat widget. One <script> tag, no framework, no build step.
 *
 *   <script src="https://BOT_HOST/widget.js" async
 *           data-bot-url="https://BOT_HOST" data-color="#e8590c" data-title="Stride"
 *           data-greeting="Questions? Ask us!" data-position="right" data-language="de"
 *           data-open="false"></script>
 *
 * JavaScript API (calls made before the script has loaded can be queued, see the README):
 *   Threadline.track(name, data)         record a site event on the visitor's thread
 *   Threadline.open() / close() / toggle()
 *   Threadline.identify(customerId, signature)   a signed-in customer (HMAC-SHA256 from your server)
 *   Threadline.reset()                   signing out: back to the browser's own anonymous chat
 *
 * Security: every text from customers or flows is inserted with textContent, never as HTML; links are
 * built as <a> elements and only for http(s) URLs.
 */
(function () {
  "use strict";
  if (window.Threadline && window.Threadline.__loaded) return;

  var script = document.currentScript;
  var queued = (window.Threadline && window.Threadline.q) || [];
  var data = (script && script.dataset) || {};
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;

  var options = {
    botUrl: (data.botUrl || scriptOrigin).replace(/\/+$/, ""),
    color: /^#[0-9a-fA-F]{3,8}$/.test(data.color || "") ? data.color : "#2f6fed",
    title: data.title || "Chat",
    greeting: data.greeting || "",
    position: data.position === "left" ? "left" : "right",
    language: data.language || navigator.language || "",
    open: data.open === "true",
    transport: data.transport === "http" ? "http" : "auto",
    customer: data.customerId && data.customerSignature
      ? { id: data.customerId, signature: data.customerSignature } : null
  };

  // ------------------------------------------------------------------ storage

  function store(kind) {
    try {
      var s = window[kind];
      s.setItem("threadline:probe", "1");
      s.removeItem("threadline:probe");
      return s;
    } catch (e) {
      var memory = {};
      return {
        getItem: function (k) { return Object.prototype.hasOwnProperty.call(memory, k) ? memory[k] : null; },
        setItem: function (k, v) { memory[k] = String(v); },
        removeItem: function (k) { delete memory[k]; }
      };
    }
  }
  var local = store("localStorage");
  var session = store("sessionStorage");

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  var visitorId = local.getItem("threadline:visitor");
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(visitorId || "")) {
    visitorId = randomId();
    local.setItem("threadline:visitor", visitorId);
  }
  var outboxKey = "threadline:outbox:" + visitorId;
  var outbox = [];
  try { outbox = JSON.parse(session.getItem(outboxKey) || "[]") || []; } catch (e) { outbox = []; }
  function saveOutbox() { session.setItem(outboxKey, JSON.stringify(outbox)); }

  // ------------------------------------------------------------------ the widget's own words

  // /widget-texts.json: every text in the bot's languages (the bot's own words over the catalogue's). The last
  // one loaded is kept: the next page shows at once with it (and takes the new one when it comes), and a page
  // opened offline still speaks the visitor's language.
  var TEXTS_KEY = "threadline:texts";
  // The bot's default-language words and message limit, built into this file by the server: no label is ever
  // blank, even when /widget-texts.json cannot be loaded on a first visit, or kept texts lack a newer key.
  var BUILT_IN = __THREADLINE_BUILT_IN__;
  var catalogue = BUILT_IN;
  var language = BUILT_IN["default"], threadLanguage = null;
  var labelled = [];       // [node, {attribute: key}] to label again when the language or the texts change

  function useTexts(json) {
    if (!json || !json.texts || typeof json.texts !== "object") return;
    catalogue = json;
    language = pickLanguage();
    if (booted) relabelAll();
  }

  function loadTexts() {
    var kept = null;
    try { kept = JSON.parse(local.getItem(TEXTS_KEY) || "null"); } catch (e) { kept = null; }
    var aborter = window.AbortController ? new AbortController() : null;
    if (aborter) setTimeout(function () { aborter.abort(); }, 8000);  // a hung request must not hide the widget
    var fresh = fetch(options.botUrl + "/widget-texts.json", aborter ? { signal: aborter.signal } : {})
      .then(function (response) {
        if (!response.ok) throw new Error("texts " + response.status);
        return response.text();
      }).then(function (text) {
        useTexts(JSON.parse(text));
        local.setItem(TEXTS_KEY, text);
      }).catch(function () { /* the kept texts, if any */ });
    if (kept && kept.texts) { useTexts(kept); return Promise.resolve(); }
    return fresh;
  }

  // The thread's language when known, else the page's data-language, else the browser's, else the bot's default.
  function pickLanguage() {
    var wanted = [threadLanguage, data.language].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").toLowerCase().split(/[-_]/)[0];
      if (code && catalogue.texts[code]) return code;
    }
    return catalogue["default"];
  }

  function t(key, values) {
    var text = (catalogue.texts[language] || {})[key] || (catalogue.texts[catalogue["default"]] || {})[key] ||
      BUILT_IN.texts[BUILT_IN["default"]][key] || "";
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return values && values[name] != null ? String(values[name]) : all;
    });
  }

  function relabel(node, keys) {
    for (var attribute in keys) {
      if (attribute === "text") node.textContent = t(keys[attribute]);
      else node.setAttribute(attribute, t(keys[attribute]));
    }
    return node;
  }

  function label(node, keys) {
    labelled.push([node, keys]);
    return relabel(node, keys);
  }

  function useLanguage(code) {
    if (code) threadLanguage = code;
    if (pickLanguage() === language) return;
    language = pickLanguage();
    relabelAll();
  }

  function relabelAll() {
    labelled.forEach(function (entry) { relabel(entry[0], entry[1]); });
    Array.prototype.forEach.call(log.querySelectorAll(".tl-pending .tl-state"), function (node) {
      node.textContent = t(node.parentNode.parentNode.classList.contains("tl-failed") ? "not_sent" : "sending");
    });
    updateBadge();
  }

  // ------------------------------------------------------------------ state

  var items = [];          // confirmed chat items, ordered by seq
  var seen = {};           // seq -> true
  var lastSeq = 0;
  var started = false;     // the thread exists on the server
  var startKnown = false;  // the server has said so (ready): a panel open before that starts nothing yet
  var isOpen = false;
  var unread = 0;
  var refused = false;     // identity or origin refused: stop trying
  var awaitingReply = 0;
  var canContinueInMessenger = false;
  var epoch = "";          // names the thread's log as numbered; another epoch means reload the history
  var sentLink = null, linkConfirmed = false;
  // A link from Messenger ("Continue on the website") arrives as ?tl_link=...: read once, then taken off the
  // address bar so it is neither bookmarked nor shared.
  var pendingLink = null;
  try {
    var here = new URL(location.href);
    pendingLink = here.searchParams.get("tl_link");
    if (pendingLink) {
      here.searchParams.delete("tl_link");
      history.replaceState(history.state, "", here.pathname + (here.search || "") + here.hash);
    }
  } catch (e) { pendingLink = null; }

  // ------------------------------------------------------------------ DOM

  var host, root, launcher, badge, teaser, panel, log, replies, statusLine, input, sendButton, typing, messengerButton;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var key in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, key) || attrs[key] == null) continue;
        if (key === "text") node.textContent = attrs[key];
        else if (key === "class") node.className = attrs[key];
        else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), attrs[key]);
        else node.setAttribute(key, attrs[key]);
      }
    }
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function safeUrl(url, schemes) {
    try {
      var parsed = new URL(url, options.botUrl + "/");
      return (schemes || ["http:", "https:"]).indexOf(parsed.protocol) >= 0 ? parsed.href : null;
    } catch (e) { return null; }
  }

  function build() {
    host = el("div", { id: "threadline-widget", style: "all: initial" });
    root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    root.appendChild(el("link", { rel: "stylesheet", href: options.botUrl + "/widget.css" }));
    var frame = el("div", { class: "tl tl-" + options.position, style: "--tl-color: " + options.color });

    badge = el("span", { class: "tl-badge", hidden: "" });
    launcher = el("button", {
      class: "tl-launcher", type: "button", "aria-expanded": "false", "aria-controls": "tl-panel", onclick: toggle
    }, [el("span", { class: "tl-launcher-icon", "aria-hidden": "true" }), badge]);

    teaser = options.greeting && !local.getItem("threadline:opened")
      ? el("button", { class: "tl-teaser", type: "button", text: options.greeting, onclick: open }) : null;

    log = label(el("div", { class: "tl-log", role: "log", "aria-live": "polite", tabindex: "0" }),
      { "aria-label": "conversation" });
    if (options.greeting) log.appendChild(el("p", { class: "tl-intro", text: options.greeting }));
    typing = label(el("div", { class: "tl-typing", hidden: "" }, [el("span"), el("span"), el("span")]),
      { "aria-label": "typing" });
    replies = label(el("div", { class: "tl-replies", role: "group" }), { "aria-label": "suggestions" });
    statusLine = el("div", { class: "tl-status", role: "status" });
    input = label(el("textarea", { class: "tl-input", rows: "1", maxlength: "4000", oninput: fitInput,
      onkeydown: function (e) {  // Enter sends, Shift+Enter is a new line; Enter that ends an IME word does neither
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); submit(); }
      } }), { "aria-label": "message_label", placeholder: "placeholder" });
    sendButton = label(el("button", { class: "tl-send", type: "submit" }), { "aria-label": "send" });
    var form = el("form", { class: "tl-composer", onsubmit: function (e) { e.preventDefault(); submit(); } },
      [input, sendButton]);
    var closeButton = label(el("button", { class: "tl-close", type: "button", onclick: close }),
      { "aria-label": "close" });
    messengerButton = label(el("button", { class: "tl-messenger", type: "button", hidden: "", onclick: continueInMessenger }),
      { text: "continue_in_messenger", title: "continue_in_messenger_hint" });
    panel = el("div", { id: "tl-panel", class: "tl-panel", role: "dialog", "aria-label": options.title, hidden: "",
      onkeydown: function (e) { if (e.key === "Escape") { close(); launcher.focus(); } } },
      [el("div", { class: "tl-header" }, [el("span", { class: "tl-title", text: options.title }), messengerButton,
                                          closeButton]),
       log, typing, replies, statusLine, form]);

    frame.appendChild(panel);
    if (teaser) frame.appendChild(teaser);
    frame.appendChild(launcher);
    root.appendChild(frame);
    document.body.appendChild(host);
    updateBadge();
    log.addEventListener("scroll", noteScroll);
    log.addEventListener("load", follow, true);            // images and GIFs take their height when loaded
    log.addEventListener("loadedmetadata", follow, true);  // and videos when their size is known
    if (window.ResizeObserver) new ResizeObserver(follow).observe(log);  // replies, typing dots, a taller input
  }

  // ------------------------------------------------------------------ staying at the newest message

  // Standard chat behaviour: the view follows new messages (and images as they load) while the customer is at
  // the bottom; once they scroll up to read, nothing moves it until they come back down or send something.
  var stuck = true, lastTop = 0;

  function atBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 40; }

  function noteScroll() {
    // only a scroll upwards can leave the bottom: content growing below never counts as the customer's doing
    if (log.scrollTop < lastTop - 1) stuck = atBottom();
    else if (atBottom()) stuck = true;
    lastTop = log.scrollTop;
  }

  function scrollDown() {
    stuck = true;
    log.scrollTop = log.scrollHeight;
    lastTop = log.scrollTop;
  }

  function follow() { if (stuck) scrollDown(); }

  function fitInput() {
    // grows with the text up to the CSS max-height, then scrolls inside
    input.style.height = "auto";
    input.style.height = (input.scrollHeight + input.offsetHeight - input.clientHeight) + "px";
  }

  // ------------------------------------------------------------------ rendering

  function time(ts) {
    try { return new Date(ts * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }
    catch (e) { return ""; }
  }

  function linkify(text) {
    var fragment = document.createDocumentFragment();
    var pattern = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
    var last = 0, match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      var href = safeUrl(match[0]);
      fragment.appendChild(href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", text: match[0] })
                                : document.createTextNode(match[0]));
      last = match.index + match[0].length;
    }
    if (last < text.length) fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function buttonNode(button) {
    if (button.kind === "url") {
      var href = safeUrl(button.value);
      return href ? el("a", { class: "tl-button", href: href, target: "_blank", rel: "noopener noreferrer",
                              text: button.title }) : null;
    }
    if (button.kind === "continue") {  // a link to this same chat on another channel, made when clicked
      return button.value === "messenger" && canContinueInMessenger
        ? el("button", { class: "tl-button", type: "button", text: button.title, onclick: continueInMessenger })
        : null;
    }
    if (button.kind === "phone") {
      return el("a", { class: "tl-button", href: "tel:" + String(button.value).replace(/[^\d+]/g, ""),
                       text: button.title });
    }
    return el("button", { class: "tl-button", type: "button", text: button.title,
                          onclick: function () { sendText(button.value, button.title); } });
  }

  function buttonsNode(buttons) {
    if (!buttons || !buttons.length) return null;
    return el("div", { class: "tl-buttons" }, buttons.map(buttonNode));
  }

  function mediaNode(item) {
    var src = safeUrl(item.url);
    if (!src) return null;
    if (item.media === "video") {
      return el("video", { class: "tl-media", src: src, controls: "", preload: "metadata", playsinline: "",
                           "aria-label": item.caption || t("video") });
    }
    return el("img", { class: "tl-media", src: src, alt: item.caption || "", loading: "lazy" });
  }

  function carouselNode(item) {
    var track = el("div", { class: "tl-cards", tabindex: "0", role: "list" }, item.cards.map(function (card) {
      var image = card.image_url && safeUrl(card.image_url);
      return el("div", { class: "tl-card", role: "listitem" }, [
        image ? el("img", { src: image, alt: card.title, loading: "lazy" }) : null,
        el("div", { class: "tl-card-body" }, [
          el("strong", { text: card.title }),
          card.subtitle ? el("p", { text: card.subtitle }) : null,
          buttonsNode(card.buttons)
        ])
      ]);
    }));
    function scroll(direction) { track.scrollBy({ left: direction * 230, behavior: "smooth" }); }
    return el("div", { class: "tl-carousel", role: "region", "aria-roledescription": "carousel",
                       "aria-label": t("products") }, [
      el("button", { class: "tl-prev", type: "button", "aria-label": t("previous"), onclick: function () { scroll(-1); } }),
      track,
      el("button", { class: "tl-next", type: "button", "aria-label": t("next"), onclick: function () { scroll(1); } })
    ]);
  }

  function itemNode(item) {
    var body = [];
    if (item.type === "text") {
      body.push(el("div", { class: "tl-text" }, [linkify(item.text || "")]));
      body.push(buttonsNode(item.buttons));
    } else if (item.type === "media") {
      body.push(mediaNode(item));
      if (item.caption) body.push(el("div", { class: "tl-text" }, [linkify(item.caption)]));
      body.push(buttonsNode(item.buttons));
    } else if (item.type === "carousel") {
      body.push(carouselNode(item));
    } else {
      return null;  // typing hints and custom payloads are not bubbles
    }
    var node = el("div", { class: "tl-message tl-" + item.role + " tl-kind-" + item.type }, [
      el("div", { class: "tl-bubble" }, body),
      el("div", { class: "tl-meta" }, [el("time", { class: "tl-time", text: item.ts ? time(item.ts) : "" })])
    ]);
    if (item.seq != null) node.setAttribute("data-seq", String(item.seq));
    if (item.client_id) node.setAttribute("data-client-id", item.client_id);
    return node;
  }

  function place(item, live) {
    if (item.seq != null) {
      if (seen[item.seq]) return false;
      seen[item.seq] = true;
      lastSeq = Math.max(lastSeq, item.seq);
      var index = items.length;
      while (index > 0 && items[index - 1].seq > item.seq) index--;
      items.splice(index, 0, item);
    }
    if (item.type === "custom" && live) {  // only as it arrives, not again from history
      host.dispatchEvent(new CustomEvent("threadline:custom", { detail: item.data, bubbles: true, composed: true }));
    }
    if (item.role === "user" && item.client_id) {
      var pending = log.querySelector('.tl-pending[data-client-id="' + cssEscape(item.client_id) + '"]');
      if (pending) pending.parentNode.removeChild(pending);
    }
    var node = itemNode(item);
    if (!node) return true;
    var before = null;
    var nodes = log.querySelectorAll(".tl-message");
    for (var i = 0; i < nodes.length; i++) {
      var seq = nodes[i].getAttribute("data-seq");
      if (nodes[i].classList.contains("tl-pending") || (seq !== null && Number(seq) > item.seq)) {
        before = nodes[i];
        break;
      }
    }
    log.insertBefore(node, before);
    return true;
  }

  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : String(value).replace(/["\\]/g, "\\$&");
  }

  function showReplies() {
    replies.textContent = "";
    var last = items[items.length - 1];
    if (!last || last.role !== "bot" || !last.quick_replies || !last.quick_replies.length) return;
    last.quick_replies.forEach(function (reply) {
      replies.appendChild(el("button", { class: "tl-chip", type: "button", text: reply.title, onclick: function () {
        replies.textContent = "";
        sendText(reply.payload, reply.title);
      } }));
    });
  }

  var renderQueue = Promise.resolve();

  function receive(list, live) {
    // Bot messages are shown one after another; a typing hint delays what follows it (live only).
    renderQueue = renderQueue.then(function () {
      var chain = Promise.resolve();
      list.forEach(function (item) {
        chain = chain.then(function () {
          if (live && item.type === "typing" && !seen[item.seq]) {
            seen[item.seq] = true;
            typing.hidden = false;
            follow();
            return new Promise(function (resolve) {
              setTimeout(resolve, Math.min(3, Number(item.seconds) || 1) * 1000);
            });
          }
          var added = place(item, live);
          if (added && live && item.role === "bot") {
            if (!isOpen) { unread++; updateBadge(); }
          }
        });
      });
      return chain.then(function () {
        if (awaitingReply === 0) typing.hidden = true;
        showReplies();
        if (live) follow(); else scrollDown();  // a restored history opens at its newest message
      });
    });
    return renderQueue;
  }

  function updateBadge() {
    badge.hidden = unread === 0;
    badge.textContent = unread > 9 ? "9+" : String(unread);
    launcher.setAttribute("aria-label", t("open_chat", { title: options.title }) +
      (unread ? " (" + t("unread", { count: unread }) + ")" : ""));
  }

  function setStatus(text, kind) {
    statusLine.textContent = text || "";
    statusLine.className = "tl-status" + (kind ? " tl-status-" + kind : "");
  }

  function showPending(frame) {
    if (frame.type !== "message" || log.querySelector('[data-client-id="' + cssEscape(frame.id) + '"]')) return;
    var node = itemNode({ role: "user", type: "text", text: frame.display || frame.text,
                          ts: frame.ts, client_id: frame.id });
    node.classList.add("tl-pending");
    // its own status beside the time, not run into it
    node.querySelector(".tl-meta").appendChild(el("span", { class: "tl-state", text: t("sending") }));
    log.appendChild(node);
    scrollDown();
  }

  function showTyping() {
    // the dots promise a reply: only while one can come (not offline, not reconnecting)
    typing.hidden = !(awaitingReply > 0 && connection.live());
  }

  // ------------------------------------------------------------------ sending

  function enqueue(frame) {
    outbox.push(frame);
    saveOutbox();
    showPending(frame);
    connection.flush();
  }

  function sendText(text, display) {
    text = String(text || "").trim();
    if (!text) return;
    replies.textContent = "";
    awaitingReply++;
    showTyping();
    var frame = { type: "message", id: randomId(), text: text, ts: Date.now() / 1000, page: location.href };
    if (display && display !== text) frame.display = display;
    enqueue(frame);
  }

  function submit() {
    var text = input.value;
    if (!text.trim()) return;
    input.value = "";
    fitInput();
    sendText(text);
    input.focus();
  }

  function track(name, payload) {
    var data = payload || {};
    if (JSON.stringify(data).length > 4000) {
      if (window.console) console.warn("Threadline.track: the data of '" + name + "' is over 4 KB; not sent");
      return;
    }
    enqueue({ type: "event", id: randomId(), name: String(name), data: data, page: location.href });
  }

  function acknowledge(id) {
    var before = outbox.length;
    outbox = outbox.filter(function (frame) { return frame.id !== id; });
    if (outbox.length !== before) saveOutbox();
  }

  function handleFrame(frame) {
    if (frame.type === "ready") {
      if (frame.reset) clearLog();  // the thread's log was rewritten (merged) or is another one now
      epoch = frame.epoch || "";
      started = frame.started;
      startKnown = true;
      setStatus("");
      useLanguage(frame.language);
      canContinueInMessenger = !!frame.continue_in_messenger;
      if (messengerButton) messengerButton.hidden = !canContinueInMessenger;
      if (frame.link) {
        if (frame.link.status === "refused") setStatus(t(LINK_REFUSALS[frame.link.reason]) || frame.link.message, "error");
        else if (frame.link.status === "confirm") askToJoin(t("join_question") || frame.link.message);
        else whenReady(open);  // they came here to go on chatting
      }
      receive(frame.messages || [], false);
      if (isOpen) maybeStart();
      connection.flush();
      showTyping();
    } else if (frame.type === "messages") {
      receive(frame.messages || [], true);
    } else if (frame.type === "ack") {
      acknowledge(frame.id);
      if (awaitingReply > 0) awaitingReply--;
      renderQueue.then(function () { if (awaitingReply === 0) typing.hidden = true; });
    } else if (frame.type === "reset") {
      forget();  // the thread changed under us (merged with another one, or deleted): load it afresh
    } else if (frame.type === "link" || (frame.type === "error" && frame.id && linkRequests[frame.id])) {
      var request = linkRequests[frame.id];
      if (!request) return;
      delete linkRequests[frame.id];
      if (frame.type === "link") request.resolve(frame.url); else request.reject(frame.message);
    } else if (frame.type === "error") {
      handleError(frame);
    }
  }

  var linkRequests = {};
  var LINK_REFUSALS = { malformed: "link_invalid", forged: "link_invalid", expired: "link_expired",
                        replayed: "link_used", mismatched: "link_elsewhere", gone: "link_gone" };

  function askToJoin(message) {
    // This browser already has a chat: joining the linked one needs the person's yes (a link someone else
    // sent must not fold their chat into a stranger's).
    whenReady(function () {
      open();
      var bar = el("div", { class: "tl-confirm", role: "alertdialog", "aria-label": message }, [
        el("p", { text: message }),
        el("button", { class: "tl-button", type: "button", text: t("join_yes"), onclick: function () {
          bar.parentNode.removeChild(bar);
          pendingLink = sentLink;
          linkConfirmed = true;
          forget();
        } }),
        el("button", { class: "tl-button", type: "button", text: t("join_no"), onclick: function () {
          bar.parentNode.removeChild(bar);
        } })
      ]);
      panel.insertBefore(bar, log);
    });
  }

  function continueInMessenger() {
    // The new tab is opened inside the click (so no popup blocker stops it) and sent to Messenger once the
    // server has made a fresh, single-use link to this thread.
    var popup = window.open("", "_blank");
    var id = randomId();
    new Promise(function (resolve, reject) {
      linkRequests[id] = { resolve: resolve, reject: reject };
      connection.requestLink(id, "messenger");
      setTimeout(function () { if (linkRequests[id]) { delete linkRequests[id]; reject(); } }, 15000);
    }).then(function (url) {
      var href = safeUrl(url);
      if (!href) throw new Error("no link");
      if (popup) { try { popup.opener = null; } catch (e) { /* cross-origin already */ } popup.location.href = href; }
      else location.href = href;
    }).catch(function () {
      if (popup) popup.close();
      setStatus(t("messenger_failed"), "error");
    });
  }

  // what the server refuses, in the widget's own words (its message is English; only a widget bug shows it)
  var ERROR_TEXTS = { origin_refused: "site_refused", identity_refused: "identity_refused", internal: "error" };

  function errorText(frame) {
    if (frame.code === "rate_limited") return t("too_fast", { seconds: Number(frame.retry_after) || 5 });
    if (frame.code === "too_long") return t("too_long", { max: BUILT_IN.max_chars });
    if (ERROR_TEXTS[frame.code]) return t(ERROR_TEXTS[frame.code]);
    return frame.message || t("error");
  }

  function handleError(frame) {
    if (frame.id && frame.code === "rate_limited") {
      // still queued: sent again once the server's wait is over
      setStatus(errorText(frame), "error");
      connection.retryLater(frame.id, (Number(frame.retry_after) || 5) * 1000);
      return;
    }
    if (frame.id) {
      acknowledge(frame.id);  // a refused frame is not retried; its text stays visible as not sent
      var pending = log.querySelector('.tl-pending[data-client-id="' + cssEscape(frame.id) + '"]');
      if (pending) {
        pending.classList.add("tl-failed");
        pending.querySelector(".tl-state").textContent = t("not_sent");
      }
      if (awaitingReply > 0) awaitingReply--;
      showTyping();
    }
    if (frame.code === "identity_refused" || frame.code === "origin_refused") refused = true;
    setStatus(errorText(frame), "error");
  }

  function maybeStart() {
    if (started || !startKnown) return;
    started = true;
    track("conversation_start", {});
  }

  // ------------------------------------------------------------------ transport

  var connection = (function () {
    var ws = null, ready = false, attempts = 0, everOpened = false, timer = null, mode = options.transport;
    var inFlight = {};
    var pollTimer = null, httpBusy = false;

    function hello() {
      var frame = { type: "hello", visitor_id: visitorId, locale: options.language, after: lastSeq };
      if (options.customer) frame.customer = options.customer;
      if (epoch) frame.epoch = epoch;
      if (pendingLink) {  // once: a reconnect must not replay it
        frame.link = pendingLink;
        if (linkConfirmed) frame.confirm = true;
        sentLink = pendingLink;
        pendingLink = null;
        linkConfirmed = false;
      }
      return frame;
    }

    function schedule() {
      if (refused || timer) return;
      var delay = Math.min(15000, 500 * Math.pow(2, attempts)) * (0.75 + Math.random() * 0.5);
      attempts++;
      timer = setTimeout(function () { timer = null; connect(); }, navigator.onLine === false ? 1000 : delay);
    }

    function connect() {
      if (refused) return;
      if (navigator.onLine === false) { setStatus(t("offline"), "offline"); schedule(); return; }
      if (mode === "http" || !window.WebSocket) { startHttp(); return; }
      if (ws) return;
      setStatus(everOpened ? t("reconnecting") : "");
      try {
        ws = new WebSocket(options.botUrl.replace(/^http/, "ws") + "/web/ws");
      } catch (e) { ws = null; fallbackOrRetry(); return; }
      ws.onopen = function () {
        everOpened = true;
        attempts = 0;
        ws.send(JSON.stringify(hello()));
      };
      ws.onmessage = function (event) {
        var frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        if (frame.type === "ready") { ready = true; inFlight = {}; }
        handleFrame(frame);
      };
      ws.onclose = function (event) {
        ws = null;
        ready = false;
        inFlight = {};
        showTyping();
        if (event.code === 4003) { refused = true; return; }
        fallbackOrRetry();
      };
    }

    function fallbackOrRetry() {
      if (!everOpened && attempts >= 2) {
        mode = "http";  // WebSocket never got through (proxy, firewall): talk over plain HTTP instead
        startHttp();
        return;
      }
      if (navigator.onLine !== false) setStatus(t("reconnecting"));
      schedule();
    }

    function retryLater(id, delay) {
      delete inFlight[id];
      setTimeout(function () { setStatus(""); flush(); }, delay);
    }

    function restart() {
      if (mode === "http") { helloDone = false; httpHello(); return; }
      if (ws) { try { ws.close(); } catch (e) { /* closing */ } }
      else connect();
    }

    function flush() {
      if (mode === "http") { httpFlush(); return; }
      if (!ws || !ready) { if (!ws && !timer) connect(); return; }
      outbox.forEach(function (frame) {
        if (inFlight[frame.id]) return;
        inFlight[frame.id] = true;
        var wire = {};
        for (var key in frame) if (key !== "ts") wire[key] = frame[key];
        ws.send(JSON.stringify(wire));
      });
    }

    function goOffline() {
      if (!booted) return;  // boot connects, or says it is offline, itself
      setStatus(t("offline"), "offline");
      if (ws) { try { ws.close(); } catch (e) { /* already closing */ } }
      showTyping();
    }

    function goOnline() {
      if (!booted) return;
      setStatus("");
      attempts = 0;
      if (timer) { clearTimeout(timer); timer = null; }
      if (mode === "http") { httpHello(); return; }
      connect();
    }

    // HTTP fallback: the same frames over POST, and polling for messages from other tabs and channels.
    // text/plain keeps the request "simple" (no CORS preflight); the server reads the body as JSON anyway.
    function post(path, body) {
      return fetch(options.botUrl + path, {
        method: "POST", headers: { "Content-Type": "text/plain;charset=UTF-8" }, body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().then(function (json) { return { status: response.status, json: json }; });
      });
    }

    var helloDone = false;
    function httpHello() {
      return post("/web/api/hello", hello()).then(function (result) {
        if (result.status !== 200) {
          handleError(result.json);
          if (pollTimer && refused) { clearInterval(pollTimer); pollTimer = null; }
          return;
        }
        helloDone = true;
        handleFrame(result.json);
      }).catch(function () { setStatus(t("reconnecting")); schedule(); });
    }

    function startHttp() {
      if (pollTimer) return;
      httpHello();
      pollTimer = setInterval(poll, 2500);
    }

    function poll() {
      if (!helloDone || navigator.onLine === false) return;
      var who = options.customer ? "&customer_id=" + encodeURIComponent(options.customer.id) +
        "&customer_signature=" + encodeURIComponent(options.customer.signature) : "";
      fetch(options.botUrl + "/web/api/poll?visitor_id=" + encodeURIComponent(visitorId) + "&after=" + lastSeq + (epoch ? "&epoch=" + encodeURIComponent(epoch) : "") + who)
        .then(function (r) { return r.json(); })
        .then(function (json) {
          if (json.reset) { forget(); return; }  // merged or forgotten: load the thread afresh
          if (json.messages && json.messages.length) receive(json.messages, true);
        })
        .catch(function () { /* next poll */ });
    }

    function httpFlush() {
      if (httpBusy || !helloDone || !outbox.length || navigator.onLine === false) return;
      httpBusy = true;
      var frame = outbox[0];
      var wire = {};
      for (var key in frame) if (key !== "ts") wire[key] = frame[key];
      var body = { visitor_id: visitorId, locale: options.language, frame: wire };
      if (options.customer) body.customer = options.customer;
      post("/web/api/send", body).then(function (result) {
        httpBusy = false;
        if (result.status === 200) {
          receive(result.json.messages || [], true);
          handleFrame({ type: "ack", id: frame.id });
        } else if (result.json && result.json.code === "rate_limited") {
          setStatus(errorText(result.json), "error");  // kept: tried again after the wait
          setTimeout(httpFlush, (Number(result.json.retry_after) || 5) * 1000);
          return;
        } else {
          handleError(Object.assign({ id: frame.id }, result.json || {}));
        }
        httpFlush();
      }).catch(function () { httpBusy = false; setTimeout(httpFlush, 2000); });
    }

    function requestLink(id, to) {
      if (mode !== "http" && ws && ready) {
        ws.send(JSON.stringify({ type: "link", id: id, to: to }));
        return;
      }
      var body = { visitor_id: visitorId, id: id, to: to };
      if (options.customer) body.customer = options.customer;
      post("/web/api/link", body).then(function (result) {
        handleFrame(result.status === 200 ? result.json : Object.assign({ type: "error", id: id }, result.json || {}));
      }).catch(function () { handleFrame({ type: "error", id: id, message: t("offline") }); });
    }

    function live() {
      return navigator.onLine !== false && (mode === "http" ? helloDone : ready);
    }

    window.addEventListener("offline", goOffline);
    window.addEventListener("online", goOnline);
    return { connect: connect, flush: flush, retryLater: retryLater, restart: restart, requestLink: requestLink,
             live: live };
  })();

  // ------------------------------------------------------------------ opening and closing

  // The panel stays open or closed across the pages of a visit (this tab's session).
  var PANEL_KEY = "threadline:panel";

  function open(restoring) {
    if (isOpen) return;
    isOpen = true;
    session.setItem(PANEL_KEY, "open");
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.classList.add("tl-launcher-open");
    if (teaser) { teaser.hidden = true; }
    local.setItem("threadline:opened", "1");
    unread = 0;
    updateBadge();
    scrollDown();
    if (restoring !== true) input.focus();  // a page change must not pop up a phone's keyboard
    maybeStart();
  }

  function close() {
    if (!isOpen) return;
    isOpen = false;
    session.setItem(PANEL_KEY, "closed");
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.classList.remove("tl-launcher-open");
  }

  function toggle() { if (isOpen) close(); else open(); }

  function clearLog() {
    items = [];
    seen = {};
    lastSeq = 0;
    Array.prototype.forEach.call(log.querySelectorAll(".tl-message:not(.tl-pending)"), function (node) {
      node.parentNode.removeChild(node);
    });
    replies.textContent = "";
  }

  function forget() {
    // another person's thread, or this one rewritten: clear the window and load it afresh
    clearLog();
    epoch = "";
    started = false;
    startKnown = false;
    connection.restart();
  }

  function identify(id, signature) {
    options.customer = { id: String(id), signature: String(signature) };
    whenReady(forget);
  }

  function reset() {
    options.customer = null;
    whenReady(forget);
  }

  // ------------------------------------------------------------------ start

  var api = {
    __loaded: true,
    // a page's own script may call before the widget is built (its texts are still loading): kept until then
    track: function (name, payload) { whenReady(function () { track(name, payload); }); },
    open: function () { whenReady(open); },
    close: function () { whenReady(close); },
    toggle: function () { whenReady(toggle); },
    identify: identify,
    reset: reset,
    visitorId: function () { return visitorId; }
  };
  window.Threadline = api;

  var booted = false, waiting = [];
  function whenReady(fn) { if (booted) fn(); else waiting.push(fn); }

  function boot() {
    build();
    booted = true;
    outbox.forEach(showPending);
    queued.forEach(function (call) {
      var method = api[call[0]];
      if (typeof method === "function") method.apply(api, Array.prototype.slice.call(call[1] || []));
    });
    waiting.forEach(function (fn) { fn(); });
    var kept = session.getItem(PANEL_KEY);
    if (kept === "open") open(true);
    else if (kept === null && options.open) open();
    connection.connect();
  }

  var domReady = new Promise(function (resolve) {
    if (document.body) resolve();
    else document.addEventListener("DOMContentLoaded", resolve);
  });
  Promise.all([loadTexts(), domReady]).then(boot);
})();
