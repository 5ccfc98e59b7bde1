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
