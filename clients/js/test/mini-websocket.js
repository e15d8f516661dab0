// A minimal RFC 6455 client with the browser's WebSocket interface (onopen, onmessage, onclose,
// send, close, readyState), over node:http's upgrade: Node 18 (Debian's) has no WebSocket at all
// and Node 20 only behind --experimental-websocket, and the tests take no packages. It is what a
// Node app could pass as `new ChatwireClient({ WebSocket })` too. Text frames only (the protocol's).
import crypto from "node:crypto";
import http from "node:http";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export class MiniWebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    this._buffer = Buffer.alloc(0);
    this._fragments = [];
    const where = new URL(url);
    const key = crypto.randomBytes(16).toString("base64");
    const req = http.request({ host: where.hostname, port: where.port, path: where.pathname + where.search,
      headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13" } });
    req.on("upgrade", (res, socket, head) => {
      const accept = crypto.createHash("sha1").update(key + GUID).digest("base64");
      if (res.headers["sec-websocket-accept"] !== accept) {
        socket.destroy();
        return this._finish(1006);
      }
      this._socket = socket;
      socket.setNoDelay(true);
      socket.on("data", (chunk) => this._data(chunk));
      socket.on("close", () => this._finish(1006));
      socket.on("error", () => {});
      this.readyState = 1;
      this.onopen?.({ type: "open" });
      if (head.length) this._data(head);
    });
    req.on("response", (res) => { res.resume(); this._finish(1006); });  // refused the upgrade
    req.on("error", () => { this.onerror?.({ type: "error" }); this._finish(1006); });
    req.end();
  }

  send(text) {
    if (this.readyState === 0) throw new Error("InvalidStateError: still connecting");
    if (this.readyState === 1) this._write(0x1, Buffer.from(String(text)));
  }

  close(code, reason = "") {
    if (this.readyState >= 2) return;
    if (this.readyState === 0 || !this._socket) return this._finish(1006);
    this.readyState = 2;
    let payload = Buffer.alloc(0);
    if (code !== undefined) {
      payload = Buffer.concat([Buffer.alloc(2), Buffer.from(reason)]);
      payload.writeUInt16BE(code, 0);
    }
    this._write(0x8, payload);
    this._closing = setTimeout(() => this._socket.destroy(), 1000);  // no answer: cut it
  }

  _write(opcode, payload) {
    const mask = crypto.randomBytes(4);
    const n = payload.length;
    const head = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n])
      : n < 65536 ? Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), bigLength(n)]);
    const body = Buffer.from(payload);
    for (let i = 0; i < n; i++) body[i] ^= mask[i & 3];
    this._socket.write(Buffer.concat([head, mask, body]));
  }

  _data(chunk) {
    this._buffer = Buffer.concat([this._buffer, chunk]);
    for (;;) {
      const b = this._buffer;
      if (b.length < 2) return;
      let length = b[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      if (b.length < offset + length) return;  // server frames are never masked
      const payload = b.subarray(offset, offset + length);
      this._buffer = b.subarray(offset + length);
      this._frame(b[0] & 0x80, b[0] & 0x0f, payload);
    }
  }

  _frame(fin, opcode, payload) {
    if (opcode === 0x8) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      const reason = payload.subarray(2).toString();
      if (this.readyState === 1) {  // the server's close: answer it
        this.readyState = 2;
        this._write(0x8, payload.subarray(0, 2));
      }
      this._socket.end();
      return this._finish(code, reason);
    }
    if (opcode === 0x9) return this.readyState === 1 && this._write(0xa, payload);  // ping → pong
    if (opcode === 0xa) return undefined;
    if (opcode !== 0x0) this._fragments = [];
    this._fragments.push(Buffer.from(payload));
    if (!fin) return undefined;
    const data = Buffer.concat(this._fragments).toString();
    this._fragments = [];
    if (this.readyState === 1) this.onmessage?.({ type: "message", data });
    return undefined;
  }

  _finish(code, reason = "") {
    if (this.readyState === 3) return;
    this.readyState = 3;
    clearTimeout(this._closing);
    this._socket?.destroy();
    this.onclose?.({ type: "close", code, reason, wasClean: code !== 1006 });
  }
}

function bigLength(n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
