// The inbox's own words, from one catalogue (texts.json) in the bot's languages; English when one is missing.
let catalogue = { en: {} };
let language = "en";

export async function loadTexts() {
  const response = await fetch("/inbox/static/texts.json");
  catalogue = await response.json();
  const wanted = [localStorage.getItem("inbox-language"), ...(navigator.languages || [navigator.language])];
  language = wanted.map((code) => (code || "").slice(0, 2).toLowerCase()).find((code) => code in catalogue) || "en";
  document.documentElement.lang = language;
  return language;
}

export function t(key, values = {}) {
  const text = (catalogue[language] || {})[key] || catalogue.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// Fill the page's fixed labels: data-t (text), data-t-placeholder and data-t-label (aria-label).
export function applyTexts(root = document) {
  for (const node of root.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  for (const node of root.querySelectorAll("[data-t-placeholder]")) node.placeholder = t(node.dataset.tPlaceholder);
  for (const node of root.querySelectorAll("[data-t-label]")) node.setAttribute("aria-label", t(node.dataset.tLabel));
  document.title = t("inbox");
}
