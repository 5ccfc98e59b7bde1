// Thread events as the customer saw them. Every text goes in with textContent and every URL is checked, so a
// customer's name, message or an agent's note is shown, never run.
import { t } from "./texts.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

// Only http(s) links and pictures: a javascript: or data: URL from a message is shown as text instead.
export function safeUrl(value) {
  if (typeof value !== "string" || !value.trim()) return null; // "" would resolve to this very page
  try {
    const url = new URL(value, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

export const time = (seconds) => new Date(seconds * 1000).toLocaleString([], { dateStyle: "short", timeStyle: "short" });

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t("seconds", { n: s });
  if (s < 3600) return t("minutes", { n: Math.floor(s / 60) });
  return t("hours", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

function buttons(items) {
  if (!items || !items.length) return null;
  return el("div", { class: "buttons" }, items.map((b) => {
    const url = b.kind === "url" ? safeUrl(b.value) : null;
    return url
      ? el("a", { class: "button", href: url, target: "_blank", rel: "noopener noreferrer", text: b.title })
      : el("span", { class: "button", title: String(b.value || ""), text: b.title });
  }));
}

function chips(items) {
  if (!items || !items.length) return null;
  return el("div", { class: "chips" }, items.map((q) => el("span", { class: "chip", text: q.title })));
}

function picture(url, alt) {
  const src = safeUrl(url);
  return src ? el("img", { src, alt: alt || "", loading: "lazy" }) : null;
}

function media(data) {
  const src = safeUrl(data.url);
  let shown;
  if (data.media === "video" && src) shown = el("video", { src, controls: true, preload: "metadata" });
  else shown = picture(data.url, data.caption) || el("span", { class: "muted", text: String(data.url || "") });
  return [shown, data.caption ? el("p", { text: data.caption }) : null];
}

// One outbound message (bot or agent): text, media, carousel, with its buttons and quick replies.
export function message(data) {
  if (data.type === "text") return [el("p", { class: "text", text: data.text }), buttons(data.buttons), chips(data.quick_replies)];
  if (data.type === "media") return [...media(data), buttons(data.buttons), chips(data.quick_replies)];
  if (data.type === "carousel") {
    const cards = (data.cards || []).map((card) =>
      el("div", { class: "card" }, picture(card.image_url, card.title), el("strong", { text: card.title }),
        card.subtitle ? el("small", { text: card.subtitle }) : null, buttons(card.buttons)));
    return [el("div", { class: "carousel" }, cards), chips(data.quick_replies)];
  }
  return null; // typing dots and channel-specific JSON are not something the customer read
}

function bubble(kind, event, who, body) {
  return el("li", { class: `event ${kind}`, "data-seq": event.seq },
    el("div", { class: "meta" }, el("span", { class: "who", text: who }), el("span", { class: "channel", text: event.channel || "" }),
      el("time", { text: time(event.timestamp) })),
    el("div", { class: "body" }, body));
}

const line = (event, text, extra = "") => el("li", { class: `event line ${extra}`, "data-seq": event.seq }, el("span", { text }), el("time", { text: time(event.timestamp) }));

export function renderEvent(event) {
  const d = event.data || {};
  switch (event.kind) {
    case "user": return bubble("user", event, t("customer"), el("p", { class: "text", text: String(d.text ?? "") }));
    case "bot": { const body = message(d); return body && bubble("bot", event, t("bot"), body); }
    case "agent": { const body = message(d); return body && bubble("agent", event, String(d.by || t("agent")), body); }
    case "agent_note": return bubble("note", event, t("note_by", { name: String(d.by || "") }), el("p", { class: "text", text: String(d.text ?? "") }));
    case "handoff": return line(event, d.active ? t("event_handoff") : t("event_handback"), "handoff");
    case "handoff_queue": return line(event, d.notice ? t(`notice_${d.notice}`) : t("event_queued"), "handoff");
    case "handoff_contact":
      return el("li", { class: "event contact", "data-seq": event.seq },
        el("strong", { text: t("contact_left") }), " ", el("span", { class: "email", text: String(d.email || "") }),
        d.text ? el("p", { text: String(d.text) }) : null, el("time", { text: time(event.timestamp) }));
    case "send_refused": return line(event, t("refused", { reason: String(d.reason || "") }), "refused");
    case "merge": return line(event, t("event_merge"));
    case "site_event": return line(event, t("event_site", { name: String(d.name || d.event || "") }));
    default: return null;
  }
}
