// The operator figures of the last days: waiting and first response times, hand-off rate, who resolved what.
import { api } from "./api.js";
import { duration, el } from "./render.js";
import { t } from "./texts.js";

export async function showFigures(root) {
  const figures = await api.figures(7);
  const head = ["day", "conversations", "handoffs", "handoff_rate", "resolved_by_bot", "resolved_by_person", "still_waiting", "wait_median", "first_response_median"];
  const rows = figures.days.map((d) => [d.day, d.conversations, d.handoffs, `${Math.round((d.handoff_rate || 0) * 100)} %`, d.resolved_by_bot,
    d.resolved_by_person, d.still_waiting, duration(d.waiting_seconds.median), duration(d.first_response_seconds.median)]);
  root.replaceChildren(
    el("h2", { text: t("figures") }),
    el("p", { text: t("figures_now", { online: figures.agents_online ?? "?", open: figures.open_now ? t("yes") : t("no"), zone: figures.timezone }) }),
    el("table", {}, el("thead", {}, el("tr", {}, head.map((key) => el("th", { scope: "col", text: t(`fig_${key}`) })))),
      el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((cell) => el("td", { text: String(cell ?? "–") })))))),
    el("button", { type: "button", text: t("close_figures"), onclick: () => { root.hidden = true; } }));
  root.hidden = false;
  root.querySelector("button").focus();
}
