// The inbox's JSON API (docs/inbox.md): the session cookie goes by itself, the CSRF token with every change.
let csrf = "";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || (body && body.reason) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = csrf;
  }
  const response = await fetch(path, { method, headers, body: method === "GET" ? undefined : JSON.stringify(body || {}), credentials: "same-origin" });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (response.status === 401 && csrf) location.reload(); // the session ended (signed out elsewhere, expired)
  if (!response.ok && response.status !== 202) throw new ApiError(response.status, data);
  return data;
}

export const api = {
  async login(name, password) { const me = await call("POST", "/inbox/api/login", { name, password }); csrf = me.csrf; return me; },
  async me() { const me = await call("GET", "/inbox/api/me"); csrf = me.csrf; return me; },
  logout: () => call("POST", "/inbox/api/logout"),
  list: (list, q) => call("GET", `/inbox/api/conversations?list=${encodeURIComponent(list)}&q=${encodeURIComponent(q || "")}`),
  thread: (id) => call("GET", `/inbox/api/conversations/${encodeURIComponent(id)}`),
  act: (id, action, body) => call("POST", `/inbox/api/conversations/${encodeURIComponent(id)}/${action}`, body),
  agents: () => call("GET", "/inbox/api/agents"),
  canned: () => call("GET", "/inbox/api/canned"),
  figures: (days) => call("GET", `/inbox/api/figures?days=${days}`),
};

// The live feed: reconnects by itself and says so, since a frame missed meanwhile means lists are read again.
export function live(onFrame, onState) {
  let socket = null;
  let delay = 1000;
  let stopped = false;
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}/inbox/api/live`);
    socket.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame.type === "ready") { delay = 1000; onState(true); }
      onFrame(frame);
    };
    socket.onclose = () => {
      onState(false);
      if (!stopped) setTimeout(open, delay);
      delay = Math.min(delay * 2, 30000);
    };
  };
  open();
  return () => { stopped = true; if (socket) socket.close(); };
}

// Frames come in bursts (a message, a read mark, an assignment): ``fn`` runs one at a time, and once more after
// a run when it was asked for meanwhile, so what it reads ends current without a request per frame.
export function coalesced(fn) {
  let running = null;
  let again = false;
  const run = () => {
    if (running) { again = true; return running; }
    running = Promise.resolve().then(fn).catch(() => {}).finally(() => {
      running = null;
      if (again) { again = false; run(); }
    });
    return running;
  };
  return run;
}
