// chatwire-client: the Chatwire WebSocket protocol (docs/PROTOCOL.md) for browsers and Node, with no
// dependencies. One socket to /ws; requests are answered by id (with a timeout); events arrive in
// `seq` order, each exactly once. When the socket drops, the client reconnects after a jittered
// backoff with `?last_seq=N&epoch=E`, so the server replays what was missed before anything live —
// a reply that was streaming continues with no lost and no repeated text. When the server cannot
// replay (its history is gone or is another one), `resync_required` becomes one callback: re-read
// state. `message.send` carries a `client_msg_id` and waits in a queue while offline; a send the
// socket lost is sent again with the same id, which the server answers with the first answer, so a
// message is stored once. The bundled web client (static/js/socket.js) is built on this module.

export const VERSION = "0.1.0";

const OPEN = 1;  // WebSocket.OPEN, without needing the class
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_DISABLED = 4403;  // an admin disabled the account: signed out, no token helps
const CLOSE_GAP = 4000;  // ours: a seq skipped, resume on a new socket
const GAP_WAIT = 2000;  // ms a socket with a gap waits for the replies still owed on it

/** An error reply, or the client's own failure (`unavailable`, `timeout`, `too_large`). */
export class ChatwireError extends Error {
  constructor(error) {
    super(error.message);
    this.name = "ChatwireError";
    Object.assign(this, error);
  }
}

const unavailable = (message) => new ChatwireError({ code: "unavailable", message });

/** The wait before reconnect number `retry` (0, 1, …): exponential, capped, and spread by
 * `jitter` (a share of the wait taken off at random) so a restarted server is not hit by every
 * client in the same millisecond. */
export function backoffDelay(retry, { initial = 300, max = 5000, factor = 2, jitter = 0.5 } = {},
  random = Math.random) {
  const base = Math.min(max, initial * factor ** retry);
  return Math.round(base * (1 - jitter * random()));
}

/** A fresh id for `client_msg_id`. */
export function newClientMsgId() {
  const c = globalThis.crypto;
  return c?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function defaultUrl() {
  const where = globalThis.location;
  if (!where?.host) throw new TypeError("chatwire-client: pass `url` (ws://host/ws) outside a browser");
  return `${where.protocol === "https:" ? "wss" : "ws"}://${where.host}/ws`;
}

export class ChatwireClient {
  /**
   * @param {object} [options]
   * @param {string} [options.url] the socket's address; in a browser, this page's origin + /ws
   * @param {string} [options.token] an access token, sent as the first frame (`auth`)
   * @param {Function} [options.tokenProvider] `async ({ expired, reconnect }) => token | null`,
   *   called before every connect; `expired` is true after the server refused the last token
   *   (4401). Return null when the user is signed out; throw for a passing failure (retried).
   *   With neither `token` nor `tokenProvider` the session cookie authenticates (same origin).
   * @param {Function} [options.WebSocket] the WebSocket class; by default the global one
   * @param {number} [options.requestTimeout] ms a request waits for its reply (default 60000)
   * @param {object} [options.backoff] `{ initial, max, factor, jitter }` for reconnects
   * @param {number} [options.lastSeq] @param {string} [options.epoch] a position kept from
   *   before (e.g. in storage), to resume from on the first connect
   */
  constructor(options = {}) {
    this.url = options.url ?? defaultUrl();
    this.token = options.token ?? null;
    this.tokenProvider = options.tokenProvider ?? null;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.WebSocket !== "function") {
      throw new TypeError("chatwire-client: no WebSocket class here; pass `WebSocket` "
        + "(Node 20: run with --experimental-websocket)");
    }
    this.requestTimeout = options.requestTimeout ?? 60000;
    this.backoff = options.backoff ?? {};
    this.lastSeq = options.lastSeq ?? null;  // the seq of the last event handled
    this.epoch = options.epoch ?? null;  // the history those seqs count in (the hello's)
    this.hello = null;  // the latest hello: who we are, and the largest frame the server reads
    this.state = "idle";  // then connecting, connected, reconnecting, offline
    this.ws = null;
    this.lastError = null;  // the error frame a refused socket got before its close
    this._listeners = new Map();
    this._pending = new Map();  // id → request in flight on this socket
    this._queue = [];  // requests waiting for a socket (only those safe to send again)
    this._nextId = 1;
    this._retry = 0;
    this._refused = 0;  // 4401s since the last hello
    this._attempt = 0;  // bumped by close(): an open that was waiting for its token gives up
    this._live = false;  // this socket has said hello
    this._gap = null;  // set when a seq skipped: the socket is closing once its replies are in
    this._timer = null;
    this._opening = false;  // waiting for the token provider
    this._closedByUs = false;
    this._ready = null;
    for (const [name, key] of [["event", "onEvent"], ["state", "onState"], ["resync", "onResync"],
      ["loggedout", "onLoggedOut"], ["hello", "onHello"]]) {
      if (options[key]) this.on(name, options[key]);
    }
  }

  /** Listen: an event type ("message.delta", …), "event" (every event), "state", "hello",
   * "resync" (re-read state: what was missed cannot be replayed) or "loggedout". Returns `off`. */
  on(name, listener) {
    if (!this._listeners.has(name)) this._listeners.set(name, new Set());
    this._listeners.get(name).add(listener);
    return () => this._listeners.get(name)?.delete(listener);
  }

  /** Opens the socket; resolves with the first hello. Rejects only when signed out (4401). */
  connect() {
    this._closedByUs = false;
    if (!this._ready || (this._ready.settled && !this._live)) {  // a first connect, or after close()
      let resolve, reject;
      const promise = new Promise((yes, no) => { resolve = yes; reject = no; });
      this._ready = { promise, resolve, reject, settled: false };
    }
    if (!this.ws && !this._timer && !this._opening) this._open();
    return this._ready.promise;
  }

  /** Closes for good: no reconnect; what waits in the queue is refused. */
  close() {
    this._closedByUs = true;
    this._attempt += 1;
    clearTimeout(this._timer);
    this._timer = null;
    for (const entry of this._queue.splice(0)) entry.reject(unavailable("the client was closed"));
    if (this.ws) this.ws.close(1000);
    else this._setState("offline");
  }

  /** A request; resolves with its reply's `data`, rejects with a ChatwireError. `queue`: wait
   * for a socket instead of failing while offline, and be sent again if the socket is lost before
   * the reply (by default only for a request with a `client_msg_id`, which the server answers
   * once). `timeout`: ms from when the frame is sent. */
  request(type, params = {}, { timeout = this.requestTimeout, queue } = {}) {
    return new Promise((resolve, reject) => {
      const id = String(this._nextId++);
      const frame = JSON.stringify({ ...params, type, id });
      // A frame over the server's limit is refused here, not sent: the server would close with 1009.
      const limit = this.hello?.max_frame_bytes;
      const size = limit ? new TextEncoder().encode(frame).length : 0;
      if (limit && size > limit) {
        reject(new ChatwireError({ code: "too_large", message: "message too large", size, limit }));
        return;
      }
      const entry = { id, type, frame, resolve, reject, timeout, timer: null,
        queue: queue ?? params.client_msg_id != null };
      if (this._live && !this._gap) this._write(entry);
      else if ((entry.queue || this._gap) && !this._closedByUs) this._queue.push(entry);  // unsent: safe
      else reject(unavailable("not connected"));
    });
  }

  /** `message.send` with a `client_msg_id` (made if not given): queued while offline and sent
   * again after a lost socket, stored once. Resolves with `{message, assistant_message}`. */
  sendMessage(params, options = {}) {
    return this.request("message.send", { ...params, client_msg_id: params.client_msg_id ?? newClientMsgId() },
      { ...options, queue: true });
  }

  /** Requests waiting for a socket. */
  get queued() {
    return this._queue.length;
  }

  // -- the socket --

  async _open() {
    const attempt = this._attempt;
    const reconnect = this.lastSeq !== null || this.hello !== null;
    this._setState(reconnect ? "reconnecting" : "connecting");
    let token = this.token;
    if (this.tokenProvider) {
      this._opening = true;
      try {
        token = await this.tokenProvider({ expired: this._refused > 0, reconnect });
      } catch {
        if (attempt === this._attempt) this._later();
        return;
      } finally {
        this._opening = false;
      }
      if (attempt !== this._attempt) return;  // closed meanwhile
      if (token == null) return this._signedOut();
    }
    const resume = this.lastSeq === null ? ""
      : `last_seq=${this.lastSeq}${this.epoch ? `&epoch=${encodeURIComponent(this.epoch)}` : ""}`;
    const url = resume ? `${this.url}${this.url.includes("?") ? "&" : "?"}${resume}` : this.url;
    const ws = new this.WebSocket(url);
    this.ws = ws;
    this._live = false;
    ws.onopen = () => token && ws.send(JSON.stringify({ type: "auth", id: "auth", token }));
    ws.onmessage = (message) => ws === this.ws && this._frame(JSON.parse(message.data));
    ws.onerror = () => {};  // a close follows
    ws.onclose = (event) => this._closed(ws, event);
  }

  _write(entry) {
    this._pending.set(entry.id, entry);
    if (entry.timeout) {
      entry.timer = setTimeout(() => {
        if (this._pending.get(entry.id) !== entry) return;
        this._pending.delete(entry.id);
        entry.reject(new ChatwireError({ code: "timeout",
          message: `no reply to ${entry.type} in ${entry.timeout} ms`, request_type: entry.type }));
      }, entry.timeout);
    }
    this.ws.send(entry.frame);
  }

  _frame(frame) {
    switch (frame.type) {
      case "hello": return this._hello(frame);
      case "reply": return this._reply(frame);
      case "resync_required":
        this.lastSeq = frame.last_seq;
        this.epoch = frame.epoch;
        return this._emit("resync", frame);
      case "error":  // followed by a close (4401, 4429)
        this.lastError = frame.error;
        return undefined;
      default: break;
    }
    if (typeof frame.seq === "number" && this.lastSeq !== null) {
      if (frame.seq <= this.lastSeq) return undefined;  // already handled
      if (this._gap) return undefined;  // the new socket replays it, in order
      if (frame.seq > this.lastSeq + 1) {  // a gap: resume on a new socket, in order
        this._gap = setTimeout(() => this._closeGap(), GAP_WAIT);
        if (!this._pending.size) this._closeGap();
        return undefined;
      }
    }
    if (typeof frame.seq === "number") this.lastSeq = frame.seq;
    this._emit(frame.type, frame);
    this._emit("event", frame);
    return undefined;
  }

  _hello(frame) {
    if (this.lastSeq === null) {  // a resumed socket keeps its history's position until resync
      this.lastSeq = frame.last_seq;
      this.epoch = frame.epoch;
    }
    this._retry = 0;
    this._refused = 0;
    this.hello = frame;
    this._live = true;
    this._setState("connected");
    if (this._ready && !this._ready.settled) {
      this._ready.settled = true;
      this._ready.resolve(frame);
    }
    this._emit("hello", frame);
    for (const entry of this._queue.splice(0)) this._write(entry);
  }

  _reply(frame) {
    const entry = this._pending.get(String(frame.id));
    if (!entry) return;
    this._pending.delete(entry.id);
    clearTimeout(entry.timer);
    if (frame.ok) entry.resolve(frame.data);
    else entry.reject(new ChatwireError(frame.error));
    if (this._gap && !this._pending.size) this._closeGap();
  }

  // After a gap the replies owed on this socket are waited for (an event may come just before
  // its request's reply), then it closes and the next one resumes from the last seq handled.
  _closeGap() {
    clearTimeout(this._gap);
    this.ws?.close(CLOSE_GAP, "gap");
  }

  _closed(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    this._live = false;
    clearTimeout(this._gap);
    this._gap = null;
    const again = [];
    for (const entry of this._pending.values()) {
      clearTimeout(entry.timer);
      if (entry.queue && !this._closedByUs) again.push(entry);
      else entry.reject(unavailable("connection lost"));
    }
    this._pending.clear();
    this._queue.unshift(...again);  // first, in the order they were sent
    if (this._closedByUs) return this._setState("offline");
    if (event.code === CLOSE_DISABLED) {
      this.lastError = { code: "account_disabled", message: event.reason || "account disabled",
        closeCode: CLOSE_DISABLED };
      return this._signedOut();
    }
    if (event.code === CLOSE_UNAUTHORIZED) {
      this._refused += 1;
      // A token provider gets one more go (a fresh token); anything else is signed out.
      if (this.tokenProvider && this._refused === 1) return this._open();
      return this._signedOut();
    }
    return this._later();
  }

  _later() {
    this._setState("reconnecting");
    const delay = backoffDelay(this._retry++, this.backoff);
    this._timer = setTimeout(() => { this._timer = null; this._open(); }, delay);
  }

  _signedOut() {
    this._closedByUs = true;
    for (const entry of this._queue.splice(0)) entry.reject(unavailable("signed out"));
    this._setState("offline");
    const error = new ChatwireError(this.lastError ?? { code: "unauthorized", message: "signed out" });
    if (this._ready && !this._ready.settled) {
      this._ready.settled = true;
      this._ready.promise.catch(() => {});  // the "loggedout" listeners hear it too
      this._ready.reject(error);
    }
    this._emit("loggedout", error);
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", state);
  }

  // Every listener runs, in order; one that throws is reported (uncaught, as the page's own code
  // would be) without stopping the rest or the client's bookkeeping.
  _emit(name, value) {
    for (const listener of [...(this._listeners.get(name) ?? [])]) {
      try {
        listener(value);
      } catch (error) {
        queueMicrotask(() => { throw error; });
      }
    }
  }
}
