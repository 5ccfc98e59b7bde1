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

