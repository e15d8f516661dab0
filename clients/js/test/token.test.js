// chatwire-client's token provider against a real server whose access tokens live 1 second: a
// reconnect with an expired token is refused (4401), the provider is asked again with
// `expired: true`, refreshes, and the client resumes; a provider with nothing left signs out.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, test } from "node:test";

import { ChatwireClient } from "../src/index.js";
import { refresh, register, startProxy, startServer, until, WebSocket } from "./harness.js";

let server;
let proxy;

before(async () => {
  server = await startServer({ ACCESS_TOKEN_TTL_S: "3" });
  proxy = await startProxy(server.port);
});

after(async () => {
  await proxy?.close();
  await server?.stop();
});

test("a reconnect with an expired token refreshes it through the token provider and resumes", async () => {
  let tokens = await register(server.base);
  const asked = [];
  const c = new ChatwireClient({
    url: proxy.url, WebSocket, backoff: { initial: 50, max: 200 },
    async tokenProvider({ expired, reconnect }) {
      asked.push({ expired, reconnect });
      if (expired) tokens = await refresh(server.base, tokens.refresh_token);
      return tokens.access_token;  // kept until the server refuses it, as an app would
    },
  });
  const events = [];
  c.on("event", (e) => events.push(e));
  const loggedOut = [];
  c.on("loggedout", (e) => loggedOut.push(e));
  const hello = await c.connect();
  const chat = await c.request("chat.create", { title: "before" });
  await sleep(4100);  // the access token has expired (3 s: long enough for a refreshed one to open its socket on a loaded machine); the socket is still open
  proxy.drop();
  await until(() => asked.length === 3 && c.state === "connected", "a refreshed connection");
  assert.deepEqual(asked, [{ expired: false, reconnect: false }, { expired: false, reconnect: true },
    { expired: true, reconnect: true }]);
  assert.equal(c.lastError.code, "unauthorized");  // what the stale token got
  assert.deepEqual(loggedOut, []);
  assert.equal(c.hello.user.id, hello.user.id);
  const renamed = await c.request("chat.update", { chat_id: chat.id, title: "after" });
  assert.equal(renamed.title, "after");
  await until(() => events.some((e) => e.type === "chat.updated"), "chat.updated");
  const seqs = events.map((e) => e.seq);
  assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i));
  c.close();
});

test("a token provider with no token left (null) signs out: connect rejects, `loggedout` fires once", async () => {
  const asked = [];
  const c = new ChatwireClient({
    url: proxy.url, WebSocket,
    tokenProvider: ({ expired }) => { asked.push(expired); return expired ? null : "not-a-token"; },
  });
  const loggedOut = [];
  c.on("loggedout", (e) => loggedOut.push(e.code));
  await assert.rejects(c.connect(), { code: "unauthorized" });
  assert.deepEqual(asked, [false, true]);
  assert.deepEqual(loggedOut, ["unauthorized"]);
  assert.equal(c.state, "offline");
  await assert.rejects(c.request("ping"), { code: "unavailable" });
});

test("a plain token the server refuses signs out at once (no provider to ask)", async () => {
  const c = new ChatwireClient({ url: proxy.url, WebSocket, token: "not-a-token" });
  await assert.rejects(c.connect(), (e) => e.code === "unauthorized" && /invalid or expired/.test(e.message));
  assert.equal(c.state, "offline");
});
