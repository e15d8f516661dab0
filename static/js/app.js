// The bundled web client: sign in, then everything over one WebSocket.
import * as api from "./api.js";
import { Conversation } from "./conversation.js";
import { clear, h } from "./dom.js";
import { credits, language, setLanguage, t } from "./i18n.js";
import { analyze, profileEditor, transactions } from "./panels.js";
import { Sidebar } from "./sidebar.js";
import { Socket } from "./socket.js";

class App {
  constructor(root) {
    this.root = root;
    this.chatId = null;
    this.applyTheme(localStorage.getItem("chatwire.theme") ||
      (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));
  }

  async start() {
    try {
      this.user = await api.me();
    } catch {
      return this.showAuth("login");
    }
    await this.showMain();
  }

  // -- signing in --

  showAuth(mode) {
    this.socket?.close();
    const error = h("p", { class: "error", role: "alert" });
    const email = h("input", { type: "email", required: true, autocomplete: "email", placeholder: t("email"),
      "aria-label": t("email"), "data-testid": "email" });
    const password = h("input", { type: "password", required: true, minlength: 8,
      autocomplete: mode === "login" ? "current-password" : "new-password", placeholder: t("password"),
      "aria-label": t("password"), "data-testid": "password" });
    const name = h("input", { placeholder: t("displayName"), "aria-label": t("displayName"), "data-testid": "name" });
    const form = h("form", { class: "auth", "data-testid": "auth", onSubmit: async (e) => {
      e.preventDefault();
      try {
        const body = mode === "login" ? await api.login(email.value, password.value)
          : await api.register(email.value, password.value, name.value);
        this.user = body.user;  // the tokens in the body are ignored: the session cookie is used
        await this.showMain();
      } catch (err) {
        error.textContent = err.message;
      }
    } },
    h("h1", {}, t("appName")), email, password, mode === "signup" ? name : null, error,
    h("button", { class: "primary", type: "submit", "data-testid": "submit" }, mode === "login" ? t("login") : t("signup")),
    h("button", { type: "button", class: "link", "data-testid": "switch-auth",
      onClick: () => this.showAuth(mode === "login" ? "signup" : "login") },
    mode === "login" ? t("noAccount") : t("haveAccount")),
    this._prefs());
    clear(this.root).append(form);
    email.focus();
  }

  // -- the main screen --

  async showMain() {
    this.status = h("span", { class: "status connecting", "data-testid": "connection", role: "status" });
    this.balance = h("button", { class: "link balance", "data-testid": "balance",
      onClick: () => transactions(this) }, "…");
    this.sidebar = new Sidebar(this);
    this.conversation = new Conversation(this);
    this.toasts = h("div", { class: "toasts" });
    const header = h("header", { class: "top" },
      h("button", { class: "icon menu", "aria-label": "menu", onClick: () => this.root.classList.toggle("drawer") }, "☰"),
      h("strong", { class: "brand" }, t("appName")), this.status, h("span", { class: "spacer" }),
      h("span", {}, `${t("balance")}: `), this.balance,
      h("button", { class: "link", "data-testid": "profile", onClick: () => profileEditor(this) }, t("profile")),
      this._prefs(),
      h("button", { class: "link", "data-testid": "logout", onClick: () => this.logout() }, t("logout")));
    clear(this.root).append(h("div", { class: "layout" }, header, this.sidebar.el, this.conversation.el, this.toasts));
    this.socket = new Socket({
      onEvent: (event) => this.event(event),
      onState: (state) => this.connection(state),
      onResync: () => this.refresh(),
      onLoggedOut: () => this.showAuth("login"),
    });
    window.chatwire = this;  // for the curious, and for the browser tests
    await this.socket.connect();
    await this.refresh();
  }

  _prefs() {
    return h("span", { class: "prefs" },
      h("button", { class: "link", "data-testid": "language", onClick: () => {
        setLanguage(language() === "ru" ? "en" : "ru");
        this.user ? this.showMain() : this.showAuth("login");
      } }, t("language")),
      h("button", { class: "icon", title: t("theme"), "aria-label": t("theme"), "data-testid": "theme",
        onClick: () => this.applyTheme(document.documentElement.dataset.theme === "dark" ? "light" : "dark") }, "◐"));
  }

  applyTheme(theme) {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem("chatwire.theme", theme);
    document.getElementById("hl-dark").disabled = theme !== "dark";
    document.getElementById("hl-light").disabled = theme === "dark";
  }

  connection(state) {
    if (!this.status) return;
    this.status.className = `status ${state}`;
    this.status.textContent = t(state === "connecting" ? "reconnecting" : state);
    this.status.dataset.state = state;
  }

  async refresh() {
    const [models, account] = await Promise.all([
      this.socket.call("models.list"), this.socket.call("balance.get")]);
    this.conversation.setModels(models.models);
    this.showBalance(account);
    await this.sidebar.load();
    if (this.chatId) await this.reloadChat();
    else if (this.sidebar.chats.length && !this.sidebar.filter.trashed) await this.openChat(this.sidebar.chats[0].id);
    else await this.newChat();
  }

  showBalance(account) {
    this.balance.textContent = credits(account.available);
    this.balance.title = `${credits(account.balance)} (${credits(account.reserved)})`;
  }

  async newChat() {
    const chat = await this.socket.call("chat.create", { model: this.conversation.models.value || null });
    await this.openChat(chat.id);
  }

  async openChat(chatId) {
    this.chatId = chatId;
    this.root.classList.remove("drawer");
    await this.reloadChat();
    this.sidebar.render();
    this.conversation.input.focus();
  }

  async reloadChat() {
    if (!this.chatId) return;
    try {
      this.conversation.show(await this.socket.call("chat.get", { chat_id: this.chatId }));
    } catch (error) {
      if (error.code === "not_found") { this.chatId = null; return this.refresh(); }
      throw error;
    }
  }

  analyze(text) {
    return analyze(this, text).catch((error) => this.toast(error.message));
  }

  async logout() {
    this.socket.close();
    await api.logout().catch(() => null);
    this.user = null;
    this.chatId = null;
    this.showAuth("login");
  }

  toast(message) {
    const note = h("div", { class: "toast", role: "alert" }, message);
    this.toasts.append(note);
    setTimeout(() => note.remove(), 6000);
  }

  // -- events from the server --

  event(e) {
    const here = e.chat_id && e.chat_id === this.chatId;
    switch (e.type) {
      case "chat.created": case "chat.updated": case "chat.restored": case "chat.deleted":
        this.sidebar.upsert(e.chat);
        if (here && e.type === "chat.updated") {
          const last = this.conversation.messages.at(-1);
          if (e.chat.current_message_id && e.chat.current_message_id !== last?.id) this.reloadChat();
        }
        if (here && e.type === "chat.deleted") { this.chatId = null; this.refresh(); }
        break;
      case "chat.purged":
        this.sidebar.remove(e.chat_id);
        break;
      case "message.created":
        if (here) this.conversation.created(e.message);
        break;
      case "message.delta":
        if (here) this.conversation.delta(e);
        break;
      case "message.done": case "message.stopped": case "message.interrupted": case "message.error":
        if (here) this.conversation.finished(e);
        break;
      case "balance.updated":
        this.showBalance(e);
        break;
      default:
        break;  // profile, files and presence changes are read when their dialogs open
    }
  }
}

new App(document.getElementById("app")).start();
