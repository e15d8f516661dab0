// A page on chatwire-client: sign in (or up) on a Chatwire server, send a message, watch the
// reply stream. "Drop connection" closes the socket mid-reply; the client reconnects, resumes
// from the last seq, and the reply ends as exactly the text the server stored (checked below it).
// Serve this folder's parent (clients/js/) and open example/?server=http://chatwire-host:8080;
// the server must list this page's origin in CORS_ORIGINS (for the log-in's fetch).
import { ChatwireClient } from "../src/index.js";

const server = (new URLSearchParams(location.search).get("server") || "http://127.0.0.1:8080").replace(/\/$/, "");
const $ = (id) => document.getElementById(id);
let tokens = null;
let client = null;
let chat = null;
const replies = new Map();  // message id → its element

async function post(path, body) {
  const resp = await fetch(`${server}/api/v1/auth/${path}`, { method: "POST",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw Object.assign(new Error(data.error?.message || resp.statusText), { status: resp.status });
  return data;
}

function bubble(role, text, id) {
  const el = document.createElement("div");
  el.className = `message ${role}`;
  el.dataset.role = role;
  if (id) el.dataset.id = id;
  const body = document.createElement("div");
  body.className = "body";
  body.textContent = text;
  el.append(body);
  $("messages").append(el);
  return el;
}

async function start() {
  client = new ChatwireClient({
    url: `${server.replace(/^http/, "ws")}/ws`,
    async tokenProvider({ expired }) {
      if (expired) {  // the access token lapsed (4401): trade the refresh token for new ones
        try {
          tokens = await post("refresh", { refresh_token: tokens.refresh_token });
        } catch (error) {
          if (error.status === 401) return null;  // signed out for good
          throw error;  // the network: asked again after a backoff
        }
      }
      return tokens.access_token;
    },
    onState: (state) => { $("state").textContent = state; $("state").dataset.state = state; },
    onLoggedOut: (error) => { $("error").textContent = `Signed out: ${error.message}`; },
    onResync: () => { $("error").textContent = "Missed events are gone: state re-read."; },
  });
  client.on("message.created", (e) => {  // before the reply's deltas (and maybe before send's answer)
    if (e.message.role === "assistant" && e.chat_id === chat?.id && !replies.has(e.message.id)) {
      replies.set(e.message.id, bubble("assistant", e.message.content, e.message.id));
    }
  });
  client.on("message.delta", (e) => {
    const el = replies.get(e.message_id);
    if (el) el.querySelector(".body").textContent += e.delta;
  });
  client.on("message.done", (e) => check(e.message_id));
  await client.connect();
  chat = await client.request("chat.create", { title: "chatwire-client example" });
  $("signin").hidden = true;
  $("chat").hidden = false;
  $("input").focus();
}

// The reply as streamed here against the reply as stored by the server.
async function check(messageId) {
  const el = replies.get(messageId);
  if (!el) return;
  const { messages } = await client.request("chat.get", { chat_id: chat.id });
  const stored = messages.find((m) => m.id === messageId);
  const same = stored?.content === el.querySelector(".body").textContent;
  const note = document.createElement("div");
  note.className = `check ${same ? "ok" : "bad"}`;
  note.dataset.testid = "check";
  note.textContent = same ? "✓ exactly the stored text" : "✗ differs from the stored text";
  el.append(note);
}

$("signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  const path = e.submitter?.value === "register" ? "register" : "login";
  try {
    tokens = await post(path, { email: $("email").value, password: $("password").value });
    await start();
    $("error").textContent = "";
  } catch (error) {
    $("error").textContent = error.message;
  }
});

$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const content = $("input").value.trim();
  if (!content) return;
  $("input").value = "";
  bubble("user", content);
  try {
    const { assistant_message: reply } = await client.sendMessage({ chat_id: chat.id, content });
    if (reply && !replies.has(reply.id)) replies.set(reply.id, bubble("assistant", reply.content, reply.id));
  } catch (error) {
    $("error").textContent = error.message;
  }
});

$("drop").addEventListener("click", () => client.ws?.close());
