// chatwire-client against a real server: resume after a socket lost mid-reply, the offline queue,
// timeouts, resync, typed events and errors. Run: node --experimental-websocket --test test/
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { backoffDelay, ChatwireClient, ChatwireError } from "../src/index.js";
import { register, startProxy, startServer, until, WebSocket } from "./harness.js";

let server;
let proxy;

before(async () => {
  server = await startServer();
  proxy = await startProxy(server.port);
});

after(async () => {
  await proxy?.close();
  await server?.stop();
});

function client(token, options = {}) {
  return new ChatwireClient({ url: proxy.url, token, WebSocket, backoff: { initial: 50, max: 300 }, ...options });
}

/** Every event of `c` (after the hello), in the order handed on. */
function record(c) {
  const events = [];
  c.on("event", (e) => events.push(e));
  return events;
}

const finished = (events, id) => events.find((e) => e.message_id === id
  && ["message.done", "message.stopped", "message.error", "message.interrupted"].includes(e.type));

describe("chatwire-client", () => {
  test("a socket dropped mid-reply resumes: the deltas join into exactly the stored text", async () => {
    const { access_token: token } = await register(server.base);
    const c = client(token);
    const events = record(c);
    const states = [];
    c.on("state", (s) => states.push(s));
    await c.connect();
    const chat = await c.request("chat.create", { title: "resume" });
    const words = Array.from({ length: 60 }, (_, i) => `слово${i}`).join(" ");
    const sent = await c.sendMessage({ chat_id: chat.id, content: words });
    const replyId = sent.assistant_message.id;
    const deltas = () => events.filter((e) => e.type === "message.delta" && e.message_id === replyId);
    await until(() => deltas().length >= 8, "some of the reply");
    proxy.drop();
    await until(() => c.state === "reconnecting", "the drop to be seen");
    await until(() => finished(events, replyId), "the reply's end", 20000);
    const text = deltas().map((e) => e.delta).join("");
    const stored = (await c.request("chat.get", { chat_id: chat.id })).messages.find((m) => m.id === replyId);
    assert.equal(stored.status, "complete");
    assert.equal(text, stored.content);
    assert.equal(text.trim(), words);
    const seqs = events.map((e) => e.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i), "every seq once, in order");
    assert.equal(finished(events, replyId).type, "message.done");
    assert.deepEqual(states, ["connecting", "connected", "reconnecting", "connected"]);
    c.close();
  });

  test("an event lost on the way (a seq skipped) is fetched on a new socket: every seq once, in order", async () => {
    const { access_token: token } = await register(server.base);
    const c = client(token);
    const events = record(c);
    const hellos = [];
    c.on("hello", (h) => hellos.push(h.connection_id));
    await c.connect();
    proxy.loseNext((text) => text.includes('"type":"chat.created"') && text.includes("lost"));
    await c.request("chat.create", { title: "lost" });
    await c.request("chat.create", { title: "after" });  // its event shows the gap
    await until(() => events.filter((e) => e.type === "chat.created").length === 2, "both events");
    assert.deepEqual(events.filter((e) => e.type === "chat.created").map((e) => e.chat.title), ["lost", "after"]);
    const seqs = events.map((e) => e.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i));
    assert.equal(hellos.length, 2, "a second socket resumed");
    c.close();
  });

  test("a message sent while offline waits in the queue and is stored once", async () => {
    const { access_token: token } = await register(server.base);
    const c = client(token);
    await c.connect();
    const chat = await c.request("chat.create", {});
    proxy.refuse();
    proxy.drop();
    await until(() => c.state === "reconnecting", "offline");
    const sending = c.sendMessage({ chat_id: chat.id, content: "sent while offline" });
    await assert.rejects(c.request("chat.get", { chat_id: chat.id }), { code: "unavailable" });
    assert.equal(c.queued, 1);
    proxy.accept();
    const answer = await sending;
    assert.equal(answer.message.content, "sent while offline");
    assert.equal(c.queued, 0);
    await until(async () => (await c.request("chat.get", { chat_id: chat.id })).messages
      .every((m) => m.status !== "streaming"), "the reply");
    const { messages } = await c.request("chat.get", { chat_id: chat.id });
    assert.deepEqual(messages.map((m) => [m.role, m.content]),
      [["user", "sent while offline"], ["assistant", "sent while offline"]]);
    c.close();
  });

  test("a send whose socket is lost before its reply is sent again with the same client_msg_id: one message", async () => {
    const { access_token: token } = await register(server.base);
    const c = client(token);
    await c.connect();
    const chat = await c.request("chat.create", {});
    const sending = c.sendMessage({ chat_id: chat.id, content: "once", client_msg_id: "m-1" });
    c.ws.close();  // the frame went out; its reply will not come on this socket
    const answer = await sending;
    assert.equal(answer.message.client_msg_id, "m-1");
    const again = await c.sendMessage({ chat_id: chat.id, content: "once", client_msg_id: "m-1" });
    assert.equal(again.duplicate, true);
    assert.equal(again.message.id, answer.message.id);
    const { messages } = await c.request("chat.get", { chat_id: chat.id });
    assert.equal(messages.filter((m) => m.role === "user").length, 1);
    c.close();
  });

  test("a request with no reply in time is refused with `timeout`; one not sent, with `unavailable`", async () => {
    const { access_token: token } = await register(server.base);
    const c = client(token);
    await c.connect();
    proxy.freeze();
    try {
      const started = Date.now();
      await assert.rejects(c.request("ping", {}, { timeout: 300 }),
        (e) => e instanceof ChatwireError && e.code === "timeout" && e.request_type === "ping");
      assert.ok(Date.now() - started >= 290);
    } finally {
      proxy.thaw();
    }
    assert.equal((await c.request("ping")).pong, true);
    c.close();
    await until(() => c.state === "offline", "closed");
    await assert.rejects(c.request("ping"), { code: "unavailable" });
    await assert.rejects(c.sendMessage({ chat_id: "x", content: "y" }), { code: "unavailable" });
  });

  test("resuming into another history is one resync callback, then events carry on from its seq", async () => {
    const { access_token: token } = await register(server.base);
    const resyncs = [];
    const c = client(token, { lastSeq: 5, epoch: "another-history", onResync: (f) => resyncs.push(f) });
    const events = record(c);
    const hello = await c.connect();
    await until(() => resyncs.length, "resync_required");
    assert.equal(resyncs.length, 1);
    assert.equal(resyncs[0].epoch, hello.epoch);
    assert.equal(c.lastSeq, resyncs[0].last_seq);
    const chat = await c.request("chat.create", { title: "after resync" });
    await until(() => events.some((e) => e.type === "chat.created"), "chat.created");
    const created = events.find((e) => e.type === "chat.created");
    assert.equal(created.chat.id, chat.id);
    assert.equal(created.seq, resyncs[0].last_seq + 1);
    c.close();
  });

  test("typed listeners hear their type; `off` stops them; error replies are ChatwireErrors with the server's code", async () => {
    const { access_token: token } = await register(server.base);
    const c = client(token);
    const created = [];
    const off = c.on("chat.created", (e) => created.push(e.chat.title));
    await c.connect();
    await c.request("chat.create", { title: "one" });
    await until(() => created.length === 1, "chat.created");
    off();
    await c.request("chat.create", { title: "two" });
    await c.request("ping");
    assert.deepEqual(created, ["one"]);
    await assert.rejects(c.request("chat.get", { chat_id: "nope" }),
      (e) => e instanceof ChatwireError && e.code === "not_found" && e.chat_id === "nope");
    await assert.rejects(c.request("chat.create", { titel: "x" }), { code: "bad_request" });
    const big = "x".repeat(c.hello.max_frame_bytes);
    await assert.rejects(c.request("chat.create", { title: big }),
      (e) => e.code === "too_large" && e.limit === c.hello.max_frame_bytes && e.size > e.limit);
    assert.equal(c.state, "connected");  // refused here: the server never saw it
    c.close();
  });
});

test("the backoff grows, is capped and jittered", () => {
  const opts = { initial: 100, max: 1000, factor: 2, jitter: 0.5 };
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((r) => backoffDelay(r, opts, () => 0)),
    [100, 200, 400, 800, 1000, 1000]);
  assert.equal(backoffDelay(2, opts, () => 1), 200);  // at most half taken off
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(3, opts)));
  assert.ok(spread.size > 10, "random waits, not one instant for every client");
  for (const d of spread) assert.ok(d >= 400 && d <= 800, d);
});
