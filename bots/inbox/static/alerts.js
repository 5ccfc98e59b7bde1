// A conversation entering the queue: the badge, a short tone and a browser notification (when allowed).
import { t } from "./texts.js";

let audio = null;

function tone() {
  try {
    audio = audio || new AudioContext();
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.4);
  } catch { /* no audio device: the badge and notification still say it */ }
}

export function setBadge(count) {
  const badge = document.getElementById("queue-badge");
  badge.hidden = count === 0;
  badge.textContent = t("waiting_badge", { count });
  for (const node of document.querySelectorAll('[data-count="queue"]')) node.textContent = count ? `(${count})` : "";
  document.title = count ? `(${count}) ${t("inbox")}` : t("inbox");
}

export function announce(threadId, onClick) {
  tone();
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const note = new Notification(t("notify_title"), { body: t("notify_body"), tag: `queue-${threadId}` });
  note.onclick = () => { window.focus(); onClick(threadId); };
}

export function askPermission() {
  if (!("Notification" in window)) return;
  Notification.requestPermission().then(showPermission);
}

export function showPermission() {
  const button = document.getElementById("notify-on");
  button.hidden = !("Notification" in window) || Notification.permission !== "default";
}
