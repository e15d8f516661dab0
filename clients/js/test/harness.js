// What the tests run against: `run.py serve` in its own process (SQLite, the offline echo model,
// no Redis), as an operator starts it, and a TCP proxy in front of it that the tests use as the
// network: it can drop every connection (a socket lost mid-reply), refuse new ones (offline) or
// stop passing bytes (a reply that never comes). Nothing of the client is faked.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

import { MiniWebSocket } from "./mini-websocket.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const PASSWORD = "correct horse battery";

/** The WebSocket class the clients use: Node's own when it has one (22+, or 20 with
 * --experimental-websocket), else the minimal one; CHATWIRE_TEST_WEBSOCKET=mini forces it. */
export const WebSocket = process.env.CHATWIRE_TEST_WEBSOCKET === "mini" || !globalThis.WebSocket
  ? MiniWebSocket : globalThis.WebSocket;

function python() {
  if (process.env.CHATWIRE_PYTHON) return process.env.CHATWIRE_PYTHON;
  const venv = join(ROOT, ".venv", "bin", "python");
  return existsSync(venv) ? venv : "python3";
}

function freePort() {
  return new Promise((done, fail) => {
    const probe = net.createServer();
    probe.on("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

/** `run.py serve` on a free port; `env` adds settings. Resolves once /healthz answers. */
export async function startServer(env = {}) {
  const home = mkdtempSync(join(tmpdir(), "chatwire-js-"));
  const port = await freePort();
  const child = spawn(python(), [join(ROOT, "run.py"), "serve"], {
    cwd: home,
    stdio: ["ignore", "ignore", process.env.CHATWIRE_SERVER_LOG ? "inherit" : "ignore"],
    env: { ...process.env, DATABASE_URL: `sqlite:///${join(home, "chat.db")}`, VAR_DIR: join(home, "var"),
      PORT: String(port), SECRET_KEY: "k".repeat(40), JWT_SECRET_KEY: "j".repeat(40), REDIS_URL: "",
      ECHO_TOKENS_PER_SECOND: "20", ARGON2_TIME_COST: "1", ARGON2_MEMORY_COST: "1024",
      SIGNUP_CREDITS: "10000000", RATE_AUTH_PER_MINUTE: "0", LOG_LEVEL: "WARNING", ...env },
  });
  let exited = null;
  child.on("exit", (code) => { exited = code ?? "signal"; });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (exited !== null) throw new Error(`the server exited at start (${exited})`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch { /* not listening yet */ }
    if (i > 300) throw new Error("the server did not start in 30 s");
    await sleep(100);
  }
  return {
    base, port,
    async stop() {
      if (exited === null) {
        const gone = new Promise((done) => child.once("exit", done));
        child.kill("SIGTERM");
        await gone;
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A TCP proxy to `port` on 127.0.0.1: the network between the client and the server. */
export async function startProxy(port) {
  const pairs = new Set();
  let refusing = false;
  let frozen = false;
  let lose = null;  // a test of server text frames: the next one it accepts is not delivered
  const server = net.createServer((client) => {
    if (refusing) return client.destroy();
    const upstream = net.connect(port, "127.0.0.1");
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => { client.destroy(); upstream.destroy(); pairs.delete(pair); };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    const down = serverFrames((frame, text) => {
      if (lose && text !== null && lose(text)) { lose = null; return; }
      client.write(frame);
    });
    client.on("data", (chunk) => frozen || upstream.write(chunk));
    upstream.on("data", (chunk) => frozen || down(chunk));
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const proxyPort = server.address().port;
  return {
    url: `ws://127.0.0.1:${proxyPort}/ws`,
    get connections() { return pairs.size; },
    /** Every connection cut, as a network that went away. */
    drop() { for (const { client, upstream } of pairs) { client.destroy(); upstream.destroy(); } },
    /** New connections refused (offline) until `accept()`. */
    refuse() { refusing = true; },
    accept() { refusing = false; },
    /** The next server text frame `test(text)` accepts is lost on the way (a message gone
     * between instances). */
    loseNext(test) { lose = test; },
    /** Bytes are swallowed both ways (a stalled network) until `thaw()`. */
    freeze() { frozen = true; },
    thaw() { frozen = false; },
    close() { this.drop(); return new Promise((done) => server.close(done)); },
  };
}

/** Cuts the server's side of a connection into its HTTP head and WebSocket frames (the
 * server's are never masked), handing each on whole: `deliver(bytes, text | null)`. */
function serverFrames(deliver) {
  let buffer = Buffer.alloc(0);
  let head = true;
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (head) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      deliver(buffer.subarray(0, end + 4), null);
      buffer = buffer.subarray(end + 4);
      head = false;
    }
    while (buffer.length >= 2) {
      let length = buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) [length, offset] = buffer.length >= 4 ? [buffer.readUInt16BE(2), 4] : [Infinity, 0];
      else if (length === 127) [length, offset] = buffer.length >= 10 ? [Number(buffer.readBigUInt64BE(2)), 10] : [Infinity, 0];
      if (buffer.length < offset + length) return;
      const frame = buffer.subarray(0, offset + length);
      const text = (buffer[0] & 0x0f) === 0x1 ? frame.subarray(offset).toString() : null;
      buffer = buffer.subarray(offset + length);
      deliver(frame, text);
    }
  };
}

/** A new account on `base`: {user, access_token, refresh_token}. */
export async function register(base, email = `js-${Math.random().toString(36).slice(2, 10)}@example.com`) {
  const resp = await fetch(`${base}/api/v1/auth/register`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD, display_name: "JS" }),
  });
  const body = await resp.json();
  if (resp.status !== 201) throw new Error(`register: ${resp.status} ${JSON.stringify(body)}`);
  return body;
}

/** Trade a refresh token for new tokens (POST /api/v1/auth/refresh). */
export async function refresh(base, refreshToken) {
  const resp = await fetch(`${base}/api/v1/auth/refresh`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  const body = await resp.json();
  if (!resp.ok) throw new Error(`refresh: ${resp.status} ${JSON.stringify(body)}`);
  return body;
}

/** Until `condition()` is truthy (polled), or fail after `timeout` ms naming `what`. */
export async function until(condition, what, timeout = 10000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
