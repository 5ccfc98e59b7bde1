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

