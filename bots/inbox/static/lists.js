// The conversation lists: needs a person (oldest first, with waiting time), mine, all open, closed; with search.
import { api } from "./api.js";
import { duration, el } from "./render.js";
import { t } from "./texts.js";

export class Lists {
  constructor(onOpen) {
    this.name = "queue";
    this.query = "";
    this.rows = [];
    this.selected = null;
    this.onOpen = onOpen;
    this.list = document.getElementById("rows");
    this.empty = document.getElementById("rows-empty");
    for (const tab of document.querySelectorAll("[data-list]")) tab.addEventListener("click", () => this.show(tab.dataset.list));
    const search = document.getElementById("search");
    let timer = null;
    search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { this.query = search.value.trim(); this.load(); }, 250); });
  }

  show(name) {
    this.name = name;
    this.load();
  }

  async load() {
    for (const tab of document.querySelectorAll("[data-list]")) tab.setAttribute("aria-selected", String(tab.dataset.list === this.name));
    const { conversations } = await api.list(this.name, this.query);
    this.rows = conversations;
    this.loadedAt = Date.now();
    this.render();
  }

  render() {
    const focused = this.list.contains(document.activeElement) ? document.activeElement.dataset.thread : null;
    this.list.replaceChildren(...this.rows.map((row) => this.row(row)));
    if (focused) this.list.querySelector(`[data-thread="${CSS.escape(focused)}"]`)?.focus();
    this.empty.hidden = this.rows.length > 0;
  }

  row(row) {
    const waiting = row.waiting_seconds !== null && row.waiting_seconds !== undefined;
    const item = el("li", { role: "option", tabindex: "0", class: `row${row.unread ? " unread" : ""}`, "data-thread": row.thread_id,
      "aria-selected": String(row.thread_id === this.selected), onclick: () => this.open(row.thread_id),
      onkeydown: (event) => { if (event.key === "Enter") this.open(row.thread_id); } },
      el("span", { class: `dot${row.online ? " online" : ""}`, title: row.online ? t("online") : t("offline") }),
      el("span", { class: "row-main" },
        el("span", { class: "row-who", text: row.customer || "–" }),
        el("span", { class: "row-title", text: `${row.channels.join(", ") || "–"} · ${row.language || "?"}` }),
        row.last_message ? el("span", { class: "row-last", text: row.last_message }) : null,
        el("small", { text: row.assignee ? t("held_by", { name: row.assignee }) : row.status === "closed" ? t("closed") : t("nobody") })),
      waiting ? el("span", { class: "waiting", text: duration(row.waiting_seconds + (Date.now() - this.loadedAt) / 1000) }) : null);
    return item;
  }

  open(threadId) {
    this.selected = threadId;
    this.render();
    this.onOpen(threadId);
  }

  // j / k: the next or previous conversation of the list.
  step(by) {
    if (!this.rows.length) return;
    const at = this.rows.findIndex((row) => row.thread_id === this.selected);
    const next = this.rows[Math.min(this.rows.length - 1, Math.max(0, at + by))];
    this.open(next.thread_id);
    this.list.querySelector(`[data-thread="${CSS.escape(next.thread_id)}"]`)?.focus();
  }
}
