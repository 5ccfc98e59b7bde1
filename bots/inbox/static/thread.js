// One conversation: its history on every channel, the reply box (canned replies, notes, typing), read state,
// and what an agent does with it (take, transfer, back to the queue, hand back to the bot, close).
import { api } from "./api.js";
import { el, renderEvent, safeUrl, time } from "./render.js";
import { t } from "./texts.js";

export class ThreadView {
  constructor(ctx) {
    this.ctx = ctx; // {me, canned, agents, toast, changed}
    this.root = document.getElementById("thread");
    this.details = document.getElementById("details");
    this.id = null;
    this.view = null;
    this.typingTimer = null;
    this.typingOn = false;
  }

  async open(threadId) {
    if (this.id !== threadId) await this.stopTyping();
    this.id = threadId;
    await this.reload(true);
  }

  async reload(fresh = false) {
    if (!this.id) return;
    const id = this.id;
    const view = await api.thread(id);
    if (id !== this.id) return; // another conversation was opened meanwhile
    this.view = view;
    // The reply box is made once per conversation opened: a live update must not reset a draft or the note switch
    if (fresh || !this.box) this.box = this.composer();
    this.render();
    if (this.view.read < this.view.version) api.act(this.id, "read", { version: this.view.version }).catch(() => {});
  }

  render() {
    const v = this.view;
    const mine = v.assignee === this.ctx.me.name;
    const status = v.status === "closed" ? t("closed") : v.assignee ? t("held_by", { name: v.assignee }) : v.queued_at ? t("waiting") : t("bot_answers");
    const header = el("header", { class: "thread-head" },
      el("button", { type: "button", class: "back", text: t("back"), onclick: () => document.body.classList.remove("reading") }),
      el("div", {}, el("h2", { text: `${v.channels.join(", ") || "–"} · ${v.language || "?"}` }),
        el("small", { class: "status", text: status }), " ",
        el("small", { class: v.online ? "online" : "muted", text: v.online ? t("online") : t("offline") })),
      el("div", { class: "actions" },
        !mine ? this.button("take", () => this.act("assign")) : null,
        this.transfer(),
        v.assignee ? this.button("unassign", () => this.act("unassign")) : null,
        v.handoff ? this.button("hand_back", () => this.act("hand-back")) : null,
        v.status !== "closed" ? this.button("close", () => this.act("close")) : null));
    const events = el("ol", { class: "events", "aria-label": t("history") }, v.events.map(renderEvent));
    if (this.box.parentNode === this.root) { // kept in place, so its focus and selection stay as they are
      this.root.querySelector(".thread-head").replaceWith(header);
      this.root.querySelector(".events").replaceWith(events);
    } else {
      this.root.replaceChildren(header, events, this.box);
    }
    events.scrollTop = events.scrollHeight;
    this.renderDetails();
  }

  button(key, onclick) {
    return el("button", { type: "button", "data-action": key, text: t(key), onclick });
  }

  transfer() {
    const others = this.ctx.agents.filter((a) => a.name !== this.ctx.me.name);
    if (!others.length) return null;
    // a visible label (not only an aria-label) and room for the names: a bare select read as a stray word
    const select = el("select", { id: "transfer-to", onchange: () => { this.transferTo = select.value; } },
      others.map((a) => el("option", { value: a.name, text: a.name, selected: a.name === this.transferTo })));
    const label = el("label", { for: "transfer-to", text: t("transfer_to") });
    return el("span", { class: "transfer", role: "group" }, label, select,
      this.button("transfer", () => this.act("assign", { to: select.value })));
  }

  composer() {
    const language = this.view.language || "en";
    const canned = this.ctx.canned[language] || this.ctx.canned.en || [];
    const text = el("textarea", { id: "reply-text", rows: "3", "aria-label": t("reply_label"), placeholder: t("reply_placeholder") });
    const asNote = el("input", { type: "checkbox", id: "as-note" });
    text.addEventListener("input", () => this.typing(!asNote.checked && text.value.length > 0));
    text.addEventListener("blur", () => this.stopTyping());
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); this.send(text, asNote.checked); }
    });
    const pick = canned.length
      ? el("select", { "aria-label": t("canned"), onchange: (event) => { if (event.target.value) { text.value = event.target.value; text.focus(); event.target.value = ""; } } },
        el("option", { value: "", text: t("canned") }), canned.map((reply) => el("option", { value: reply, text: reply })))
      : null;
    return el("form", { class: "composer", onsubmit: (event) => { event.preventDefault(); this.send(text, asNote.checked); } },
      text,
      el("div", { class: "composer-row" }, pick, el("label", {}, asNote, " ", t("internal_note")),
        el("small", { class: "muted", text: t("send_hint") }), el("button", { type: "submit", text: t("send") })));
  }

  async send(box, asNote) {
    const text = box.value.trim();
    if (!text) return;
    try {
      const result = await api.act(this.id, asNote ? "notes" : "reply", { text });
      box.value = "";
      this.typingOn = false;
      if (!asNote) this.ctx.toast(result.status === "delivered" ? t("delivered") : t("queued", { reason: result.reason || "" }));
    } catch (error) {
      this.ctx.toast(t("not_sent", { reason: error.message }), true);
    }
    await this.reload();
  }

  async act(action, body) {
    try {
      await api.act(this.id, action, body);
      this.ctx.toast(t(`done_${action.replace("-", "_")}`));
    } catch (error) {
      this.ctx.toast(error.message, true);
    }
    await this.reload();
    this.ctx.changed();
  }

  // The customer's chat window shows the dots while the agent writes; they stop after 4 s without a key.
  typing(on) {
    clearTimeout(this.typingTimer);
    if (on) this.typingTimer = setTimeout(() => this.stopTyping(), 4000);
    if (on === this.typingOn) return;
    this.typingOn = on;
    api.act(this.id, "typing", { on }).catch(() => {});
  }

  async stopTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingOn && this.id) {
      this.typingOn = false;
      await api.act(this.id, "typing", { on: false }).catch(() => {});
    }
  }

  renderDetails() {
    const v = this.view;
    const section = (key, ...content) => el("section", {}, el("h3", { text: t(key) }), ...content);
    const pairs = (object) => el("dl", {}, Object.entries(object).flatMap(([k, value]) =>
      [el("dt", { text: k }), el("dd", { text: typeof value === "string" ? value : JSON.stringify(value) })]));
    const contacts = v.events.filter((e) => e.kind === "handoff_contact");
    // Site events: products viewed, the page or referral that brought the customer
    const context = v.context.map((item) => {
      const data = item.data && typeof item.data === "object" ? item.data : {};
      const url = safeUrl(data.url || data.page || "");
      const said = Object.entries(data).filter(([k, value]) => k !== "url" && value !== null && typeof value !== "object")
        .map(([k, value]) => `${k}: ${value}`).join(" · ");
      return el("li", {}, el("strong", { text: String(item.name || "") }), said ? el("span", { text: ` ${said}` }) : null,
        url ? el("div", {}, el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: url })) : null,
        item.ts ? el("small", { class: "muted", text: ` ${time(item.ts)}` }) : null);
    });
    const slots = Object.fromEntries(Object.entries(v.slots).filter(([, value]) => value !== null && value !== undefined));
    this.details.replaceChildren(...[
      contacts.length ? section("contacts", el("ul", {}, contacts.map((e) => el("li", { class: "contact" }, el("span", { class: "email", text: String(e.data.email || "") }), el("small", { text: ` ${time(e.timestamp)}` }))))) : null,
      section("identities", el("ul", {}, v.identities.map((i) => el("li", {}, el("span", { class: "channel", text: i.channel }), " ", el("code", { text: i.user_id }))))),
      section("linked_threads", v.linked_threads.length ? el("ul", {}, v.linked_threads.map((id) => el("li", {}, el("code", { text: String(id) })))) : el("p", { class: "muted", text: "–" })),
      section("context", context.length ? el("ul", {}, context) : el("p", { class: "muted", text: "–" })),
      section("slots", Object.keys(slots).length ? pairs(slots) : el("p", { class: "muted", text: "–" })),
    ].filter(Boolean));
  }
}
