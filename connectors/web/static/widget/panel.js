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

