  // ------------------------------------------------------------------ sending, and the server's answers

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
    } else if (frame.type === "typing") {
      typing.hidden = !frame.on;  // a person in the inbox is typing an answer
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

