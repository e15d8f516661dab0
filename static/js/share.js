// The public page of a share link (/s/{id}): the snapshot, read-only, drawn with the same
// sanitising markdown as the app. A signed-in reader may continue it in a chat of their own.
import * as api from "./api.js";
import { clear, h } from "./dom.js";
import { formatDate, language, t } from "./i18n.js";
import { render } from "./markdown.js";

const root = document.getElementById("share");
const shareId = decodeURIComponent(location.pathname.split("/").pop());

function theme() {
  const dark = (localStorage.getItem("chatwire.theme") ||
    (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light")) === "dark";
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  document.getElementById("hl-dark").disabled = !dark;
  document.getElementById("hl-light").disabled = dark;
}

function message(m) {
  const body = h("div", { class: "body" });
  if (m.role === "assistant") render(body, m.content);
  else body.textContent = m.content;
  return h("article", { class: `message ${m.role}`, "data-testid": "shared-message" }, body,
    m.role === "assistant" && m.model ? h("footer", {}, h("span", { class: "meta" }, m.model)) : null);
}

async function continueButton() {
  const { user } = await api.session().catch(() => ({ user: null }));
  if (!user) return h("a", { class: "button primary", href: "/", "data-testid": "sign-in-to-continue" }, t("signInToContinue"));
  return h("button", { class: "primary", "data-testid": "continue-chat", onClick: async (e) => {
    e.currentTarget.disabled = true;
    try {
      const { chat } = await api.continueShare(shareId);
      location.assign(`/?chat=${encodeURIComponent(chat.id)}`);
    } catch (error) {
      e.currentTarget.disabled = false;
      alert(error.message);
    }
  } }, t("continueInMyChats"));
}

async function show() {
  theme();
  document.documentElement.lang = language();
  let snapshot;
  try {
    snapshot = await api.share(shareId);
  } catch (error) {
    clear(root).append(h("main", { class: "share-missing" }, h("h1", {}, t("appName")),
      h("p", { role: "alert" }, error.status === 404 ? t("shareNotFound") : error.message)));
    return;
  }
  const title = snapshot.share.title || t("untitled");
  document.title = `${title} · ${t("appName")}`;
  clear(root).append(h("main", { class: "shared" },
    h("header", { class: "shared-head" },
      h("a", { class: "brand", href: "/" }, t("appName")),
      h("h1", { "data-testid": "shared-title" }, title),
      h("p", { class: "note" }, t("sharedOn", { date: formatDate(snapshot.share.created_at) })),
      await continueButton()),
    h("section", { class: "messages", "data-testid": "messages" }, snapshot.messages.map(message)),
    h("footer", { class: "note" }, t("sharedReadOnly"))));
}

show();
