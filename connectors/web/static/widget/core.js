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

