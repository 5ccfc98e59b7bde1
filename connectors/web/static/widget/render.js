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

