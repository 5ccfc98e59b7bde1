// The inbox page: sign-in, then the lists, the open conversation and the live feed that keeps both current.
import { announce, askPermission, setBadge, showPermission } from "./alerts.js";
import { api, ApiError, coalesced, live } from "./api.js";
import { showFigures } from "./figures.js";
import { Lists } from "./lists.js";
import { applyTexts, loadTexts, t } from "./texts.js";
import { ThreadView } from "./thread.js";

const $ = (id) => document.getElementById(id);
let queued = null; // the thread ids in the queue as last read; null before the first reading

let toastTimer = null;
function toast(text, error = false) {
  const node = $("toast");
  node.textContent = text;
  node.classList.toggle("error", error);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.textContent = ""; }, 10000);
}

async function refreshQueue(lists) {
  const { conversations } = await api.list("queue", "");
  const now = new Set(conversations.map((row) => row.thread_id));
  if (queued !== null) for (const id of now) if (!queued.has(id)) announce(id, (tid) => { lists.open(tid); });
  queued = now;
  setBadge(now.size);
}

async function start(me) {
  $("login").hidden = true;
  $("app").hidden = false;
  $("me").textContent = me.name;
  const [{ agents }, { replies }] = await Promise.all([api.agents(), api.canned()]);
  let thread = null;
  const lists = new Lists((id) => { document.body.classList.add("reading"); thread.open(id); });
  const changed = coalesced(() => Promise.all([lists.load(), refreshQueue(lists)]));
  const reloadThread = coalesced(() => thread.reload());
  setInterval(() => lists.render(), 15000); // waiting times keep counting between updates
  thread = new ThreadView({ me, agents, canned: replies, toast, changed });
  await lists.load();
  await refreshQueue(lists);
  showPermission();
  $("notify-on").addEventListener("click", askPermission);
  $("show-figures").addEventListener("click", () => showFigures($("figures")).catch((e) => toast(e.message, true)));
  $("logout").addEventListener("click", async () => { await api.logout().catch(() => {}); location.reload(); });
  live((frame) => {
    if (frame.type !== "conversation") return;
    changed();
    if (frame.thread_id === thread.id) reloadThread();
  }, (connected) => {
    $("presence").textContent = connected ? t("live") : t("reconnecting");
    $("presence").classList.toggle("online", connected);
    if (connected) changed(); // frames missed while away: read everything again
  });
  keys(lists, thread);
}

// Keyboard: 1–4 the lists, j/k the next or previous conversation, / search, Esc back to the list.
function keys(lists, thread) {
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, textarea, select");
    if (event.key === "Escape") { document.body.classList.remove("reading"); $("figures").hidden = true; $("search").blur(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const list = { 1: "queue", 2: "mine", 3: "open", 4: "closed" }[event.key];
    if (list) lists.show(list);
    else if (event.key === "j") lists.step(1);
    else if (event.key === "k") lists.step(-1);
    else if (event.key === "/") { event.preventDefault(); $("search").focus(); }
    else if (event.key === "r" && thread.id) { event.preventDefault(); $("reply-text")?.focus(); }
  });
}

async function main() {
  await loadTexts();
  applyTexts();
  try {
    await start(await api.me());
    return;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
  }
  $("login").hidden = false;
  $("login-name").focus();
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await start(await api.login($("login-name").value.trim(), $("login-password").value));
    } catch (error) {
      $("login-error").textContent = error.status === 429 ? t("too_many_tries") : error.status === 401 || error.status === 400 ? t("wrong_login") : error.message;
    }
  });
}

main();
