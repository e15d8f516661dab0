// One WebSocket to /ws (the session cookie authenticates it). Requests get promises resolved by
// their reply; events go to the listener, in seq order. When the connection drops the client
// reconnects with ?last_seq=N, so the server replays what was missed before anything live: a reply
// that was streaming continues with no lost and no repeated text. The hello's `epoch` names the
// history those seqs count in: sent back on reconnect, so a server whose history started over
// (an in-process broker restarted) answers resync_required instead of replaying other events.

export class Socket {
  constructor({ onEvent, onState, onResync, onLoggedOut }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.onResync = onResync;
    this.onLoggedOut = onLoggedOut;
    this.lastSeq = null;
    this.epoch = null;
    this.pending = new Map();
    this.nextId = 1;
    this.retry = 0;
    this.closedByUs = false;
    this.ready = null;
    this.hello = null;  // the latest hello: who we are, and the largest frame the server reads
    this.state = "connecting";
  }

  _state(state) {
    this.state = state;
    this.onState(state);
  }

  connect() {
    this.closedByUs = false;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const resume = this.lastSeq === null ? ""
      : `?last_seq=${this.lastSeq}&epoch=${encodeURIComponent(this.epoch ?? "")}`;
    const ws = new WebSocket(`${scheme}://${location.host}/ws${resume}`);
    this.ws = ws;
    this._state(this.lastSeq === null ? "connecting" : "reconnecting");
    this.ready = new Promise((resolve) => { this._resolveReady = resolve; });
    ws.onmessage = (message) => this._frame(JSON.parse(message.data));
    ws.onclose = (event) => this._closed(ws, event);
    return this.ready;
  }

  close() {
    this.closedByUs = true;
    this.ws?.close();
  }

  // A request's reply. A frame over the server's limit is refused here (`too_large`, with the
  // sizes), not sent: the server would close the socket with 1009.
  call(type, params = {}) {
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        reject(Object.assign(new Error("not connected"), { code: "unavailable" }));
        return;
      }
      const id = String(this.nextId++);
      const frame = JSON.stringify({ type, id, ...params });
      const limit = this.hello?.max_frame_bytes;
      const size = limit ? new TextEncoder().encode(frame).length : 0;
      if (limit && size > limit) {
        reject(Object.assign(new Error("message too large"), { code: "too_large", size, limit }));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.ws.send(frame);
    });
  }

  _frame(frame) {
    if (frame.type === "hello") {
      const resumed = this.lastSeq !== null;
      if (!resumed) {  // a resumed socket keeps its history's epoch until resync_required says
        this.lastSeq = frame.last_seq;
        this.epoch = frame.epoch;
      }
      this.retry = 0;
      this.hello = frame;
      this._state("connected");
      this._resolveReady(frame);
      return;
    }
    if (frame.type === "reply") {
      const waiting = this.pending.get(frame.id);
      if (!waiting) return;
      this.pending.delete(frame.id);
      if (frame.ok) waiting.resolve(frame.data);
      else waiting.reject(Object.assign(new Error(frame.error.message), frame.error));
      return;
    }
    if (frame.type === "resync_required") {
      this.lastSeq = frame.last_seq;
      this.epoch = frame.epoch;
      this.onResync();
      return;
    }
    if (frame.type === "error") return;  // followed by a 4401 close
    if (typeof frame.seq === "number") {
      if (frame.seq <= this.lastSeq) return;  // already handled
      if (frame.seq > this.lastSeq + 1) {  // a gap: fetch what is missing, in order
        this.ws.close(4000, "gap");
        return;
      }
      this.lastSeq = frame.seq;
    }
    this.onEvent(frame);
  }

  _closed(ws, event) {
    if (ws !== this.ws) return;
    for (const { reject } of this.pending.values()) {
      reject(Object.assign(new Error("connection lost"), { code: "unavailable" }));
    }
    this.pending.clear();
    if (event.code === 4401 || event.code === 4403) {  // 4403: an admin disabled the account
      this._state("offline");
      this.onLoggedOut(event.code);
      return;
    }
    if (this.closedByUs) {
      this._state("offline");
      return;
    }
    this._state("reconnecting");
    const delay = Math.min(5000, 300 * 2 ** this.retry++);
    setTimeout(() => this.connect(), delay);
  }
}
