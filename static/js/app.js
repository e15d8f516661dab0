// The bundled web client: sign in, then everything over one WebSocket.
import * as api from "./api.js";
import { Conversation } from "./conversation.js";
import { clear, h } from "./dom.js";
import { credits, creditsShort, describe, language, setLanguage, t } from "./i18n.js";
import { accountSettings } from "./account.js";
import { analyze, profileEditor, shortcuts, transactions } from "./panels.js";
import { billingInTransactions, resetOffer, returnPage, topUpButton } from "./billing.js";
import { chooseNewPassword, forgotPassword, mailedLink, verificationBanner, verifyFromLink } from "./recovery.js";
import { Sidebar } from "./sidebar.js";
import { adminButton } from "./admin.js";
import { Socket } from "./socket.js";
import { Store } from "./store.js";

class App {
  constructor(root) {
    this.root = root;
    // chatId null: a new chat not saved yet (it is created by its first message)
    this.store = new Store();
    this.socket = null;  // one per tab, for as long as the user is signed in: re-rendering keeps it
    // What the other modules may use of the app: the state, requests, and a few actions.
    this.ctx = { store: this.store, call: (type, params) => this.call(type, params),
      toast: (message) => this.toast(message), openChat: (id) => this.openChat(id),
      newChat: () => this.newChat(), saveDraft: (settings) => this.saveDraft(settings),
      reloadChat: () => this.reloadChat(), closeDrawer: () => this.closeDrawer(),
      analyze: (text) => this.analyze(text), signedOut: () => this.logout() };
    this.applyTheme(localStorage.getItem("chatwire.theme") ||
      (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));
    document.addEventListener("keydown", (e) => this._key(e));  // once, for the page's life
    // A mailed link opened in a tab already showing the app changes only the fragment.
    window.addEventListener("hashchange", () => /^#(reset|verify)=/.test(location.hash) && this.start());
  }

  async start() {
    // A link from a mail: a verification is done first (so the session below reads verified),
    // a reset opens its "choose a new password" form.
    const link = mailedLink();
    const notice = link?.kind === "verify" ? await verifyFromLink(link.token) : null;
    const { user, mail, email_verification: verification } =
      await api.session().catch(() => ({ user: null }));
    this.config = { mail: Boolean(mail), emailVerification: Boolean(verification) };
    if (link?.kind === "reset") {
      this.socket?.close();  // the reset ends every session: this tab starts over with it
      this.socket = null;
      return chooseNewPassword(this, link.token);
    }
    if (!user) return this.showAuth("login", notice);
    // /?chat=ID opens that chat (a shared chat continued lands here); the address is then tidied.
    const wanted = new URLSearchParams(location.search).get("chat");
    if (wanted) history.replaceState(null, "", "/");
    this.store.set({ user, chatId: wanted || null });
    await this.showMain();
    if (notice) this.toast(notice);
  }

  // A request over the socket (what every module sends through).
  call(type, params) {
    if (!this.socket) return Promise.reject(Object.assign(new Error("not connected"), { code: "unavailable" }));
    return this.socket.call(type, params);
  }

  // The keyboard shortcuts ("?" lists them): Ctrl/Cmd+K search, Ctrl/Cmd+Shift+O new chat,
  // Esc closes what is open or stops the reply; ↑ in an empty composer is the composer's.
  _key(e) {
    if (!this.conversation) return;
    const mod = e.ctrlKey || e.metaKey;
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);
    if (mod && !e.shiftKey && e.key.toLowerCase() === "k") {
      e.preventDefault();
      if (matchMedia("(max-width: 720px)").matches) this.openDrawer();
      this.sidebar.focusSearch();
    } else if (mod && e.shiftKey && e.key.toLowerCase() === "o") {
      e.preventDefault();
      this.newChat();
    } else if (e.key === "?" && !typing && !document.querySelector("dialog[open]")) {
      e.preventDefault();
      shortcuts();
    } else if (e.key === "Escape") {
      if (this.header?.classList.contains("account-open")) {
        this.header.classList.remove("account-open");
      } else if (this.root.classList.contains("drawer")) {
        e.preventDefault();
        this.closeDrawer();
      } else if (this.conversation.streaming()) {
        e.preventDefault();
        this.conversation.stop();
      }
    }
  }

  // -- signing in --

  showAuth(mode, notice = null) {
    this.socket?.close();
    this.socket = null;
    // Nothing of the last account stays in the page (a shared computer, another sign-in).
    this.store.set({ user: null, chatId: null, drafting: false, chat: null, messages: [], chats: [],
      account: null });
    for (const open of document.querySelectorAll("dialog.panel")) open.close();  // theirs, too
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
          : await api.register(email.value, password.value, name.value, language());
        this.store.set({ user: body.user });  // the body's tokens are ignored: the cookie is used
        await this.showMain();
      } catch (err) {
        error.textContent = err.message;
      }
    } },
    h("h1", {}, t("appName")),
    notice ? h("p", { class: "auth-notice", role: "status", "data-testid": "auth-notice" }, notice) : null,
    email, password,
    mode === "login" && this.config?.mail ? h("button", { type: "button", class: "link forgot",
      "data-testid": "forgot-password", onClick: () => forgotPassword(this) }, t("forgotPassword")) : null,
    mode === "signup" ? name : null, error,
    h("button", { class: "primary", type: "submit", "data-testid": "submit" }, mode === "login" ? t("login") : t("signup")),
    h("button", { type: "button", class: "link", "data-testid": "switch-auth",
      onClick: () => this.showAuth(mode === "login" ? "signup" : "login") },
    mode === "login" ? t("noAccount") : t("haveAccount")),
    this._prefs());
    clear(this.root).append(form);
    email.focus();
  }

  // -- the main screen --

  // Draws the main screen; connects only if this tab is not connected yet (a language switch
  // draws it again over the same socket).
  async showMain() {
    this.status = h("span", { class: "status connecting", "data-testid": "connection", role: "status" });
    this.balance = h("button", { class: "link balance", "data-testid": "balance",
      onClick: () => transactions(this.ctx).then((box) => billingInTransactions(this.ctx, box))
        .catch((error) => this.toast(describe(error))) }, "…");
    this.topUp = h("span", { hidden: true });  // the "Top up" button, once connected
    this.sidebar = new Sidebar(this.ctx);
    this.conversation = new Conversation(this.ctx);
    this.toasts = h("div", { class: "toasts" });
    this.menuButton = h("button", { class: "icon menu", "aria-label": t("menu"), "aria-expanded": "false",
      "data-testid": "menu", onClick: () => this.openDrawer() }, "☰");
    // On a phone the account's links fold into a menu under the avatar, so the header is one line.
    const items = h("span", { class: "account-items", "data-testid": "account-items",
      onClick: (e) => e.target.closest("button") && header.classList.remove("account-open") },
    h("button", { class: "link", "data-testid": "profile", onClick: () => profileEditor(this.ctx) }, t("profile")),
    h("button", { class: "link", "data-testid": "settings", onClick: () => accountSettings(this.ctx)
      .catch((error) => this.toast(describe(error))) }, t("accountSettings")),
    adminButton(this.ctx),
    this._prefs(),
    h("button", { class: "link", "data-testid": "logout", onClick: () => this.logout() }, t("logout")));
    const avatar = h("button", { class: "avatar account-toggle", "aria-label": t("account"),
      title: this.store.state.user?.display_name || this.store.state.user?.email || "",
      "data-testid": "account", onClick: () => (matchMedia("(max-width: 720px)").matches
        ? header.classList.toggle("account-open") : profileEditor(this.ctx)) },
    initials(this.store.state.user));
    const verify = verificationBanner(this.ctx, this.config?.emailVerification);
    this.conversation.el.prepend(verify.el);
    this._offUser?.();  // the last drawing's listener: one at a time, whatever re-renders
    this._offUser = this.store.on("user", (user) => {
      if (!user) return;
      verify.show(user);
      avatar.textContent = initials(user);
      avatar.title = user.display_name || user.email;
    });
    const header = h("header", { class: "top" }, this.menuButton,
      h("strong", { class: "brand" }, t("appName")), this.status, h("span", { class: "spacer" }),
      h("span", { class: "balance-label" }, `${t("balance")}: `), this.balance, this.topUp, items, avatar);
    this.header = header;
    const backdrop = h("div", { class: "backdrop", "data-testid": "backdrop", onClick: () => this.closeDrawer() });
    clear(this.root).append(h("div", { class: "layout" }, header, this.sidebar.el, backdrop,
      this.conversation.el, this.toasts));
    window.chatwire = this;  // for the curious, and for the browser tests
    if (this.socket) {
      this.connection(this.socket.state);
    } else {
      this.socket = new Socket({
        onEvent: (event) => this.event(event),
        onState: (state) => this.connection(state),
        onResync: () => this.refresh(),
        onLoggedOut: (code) => this.showAuth("login", code === 4403 ? t("accountDisabled") : undefined),
      });
      await this.socket.connect();
    }
    await this.refresh();
    resetOffer();
    this.topUp.replaceWith(this.topUp = topUpButton(this.ctx));
    if (location.pathname === "/billing/return") await returnPage(this.ctx);
  }

  // -- the phone drawer: closes on a tap outside, Esc or its own button; focus goes back --

  openDrawer() {
    this._focusBefore = document.activeElement;
    this.root.classList.add("drawer");
    this.menuButton.setAttribute("aria-expanded", "true");
    this.sidebar.focusClose();
  }

  closeDrawer() {
    if (!this.root.classList.contains("drawer")) return;
    this.root.classList.remove("drawer");
    this.menuButton?.setAttribute("aria-expanded", "false");
    (this._focusBefore?.isConnected ? this._focusBefore : this.menuButton)?.focus();
    this._focusBefore = null;
  }

  _prefs() {
    return h("span", { class: "prefs" },
      h("button", { class: "link", "data-testid": "language", onClick: () => {
        setLanguage(language() === "ru" ? "en" : "ru");
        this.store.state.user ? this.showMain() : this.showAuth("login");
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
    this.store.set({ connection: state,
      maxFrameBytes: this.socket?.hello?.max_frame_bytes ?? this.store.state.maxFrameBytes });
    if (!this.status) return;
    this.status.className = `status ${state}`;
    this.status.textContent = t(state);  // connecting (the first time), reconnecting, …
    this.status.title = t(state);
    this.status.dataset.state = state;
  }

  async refresh() {
    const [models, account] = await Promise.all([this.call("models.list"), this.call("balance.get")]);
    this.store.set({ models: models.models });
    this.conversation.setModels(models.models);
    this.showBalance(account);
    await this.sidebar.load();
    const { chatId, chats, drafting } = this.store.state;
    if (chatId) await this.reloadChat();
    else if (chats.length && !this.sidebar.inTrash() && !drafting) await this.openChat(chats[0].id);
    else this.newChat();
  }

  showBalance(account) {
    this.store.set({ account });
    this.balance.textContent = creditsShort(account.available);
    this.balance.title = `${credits(account.available)} (${credits(account.balance)} − ${credits(account.reserved)})`;
  }

  // A new chat is a draft until its first message: clicking "New chat" stores nothing.
  newChat() {
    this.store.set({ chatId: null, drafting: true });
    this.closeDrawer();
    this.conversation.showDraft();
    this.sidebar.render();
    this.conversation.focus();
  }

  // The draft's first message: the chat is created with it (with the model and profile choice).
  // Not while the address waits for its link: the send would be refused and leave an empty chat
  // (the server still refuses every send; `account.updated` tells this tab once it is proven).
  async saveDraft(settings) {
    if (this.config?.emailVerification && this.store.state.user?.email_verified === false) {
      throw Object.assign(new Error(t("emailUnverified")), { code: "email_unverified" });
    }
    const chat = await this.call("chat.create", settings);
    this.store.set({ chatId: chat.id, drafting: false });
    this.sidebar.upsert(chat);
    return chat;
  }

  async openChat(chatId) {
    this.store.set({ chatId, drafting: false });
    this.closeDrawer();
    await this.reloadChat();
    this.sidebar.render();
    this.conversation.focus();
  }

  async reloadChat() {
    const { chatId } = this.store.state;
    if (!chatId) return;
    try {
      this.conversation.show(await this.call("chat.get", { chat_id: chatId }));
    } catch (error) {
      if (error.code === "not_found") { this.store.set({ chatId: null }); return this.refresh(); }
      throw error;
    }
  }

  analyze(text) {
    return analyze(this.ctx, text).catch((error) => this.toast(describe(error)));
  }

  async logout() {
    this.socket?.close();
    this.socket = null;
    await api.logout().catch(() => null);
    this.store.set({ user: null, chatId: null });
    this.showAuth("login");
  }

  toast(message) {
    const note = h("div", { class: "toast", role: "alert" }, message);
    this.toasts.append(note);
    setTimeout(() => note.remove(), 6000);
  }

  // -- events from the server --

  event(e) {
    const here = e.chat_id && e.chat_id === this.store.state.chatId;
    switch (e.type) {
      case "chat.created": case "chat.updated": case "chat.restored": case "chat.deleted":
        this.sidebar.upsert(e.chat);
        if (here && e.type === "chat.updated") {
          const last = this.store.state.messages.at(-1);
          if (e.chat.current_message_id && e.chat.current_message_id !== last?.id) this.reloadChat();
        }
        if (here && (e.type === "chat.deleted" || e.type === "chat.restored")) this.reloadChat();
        break;
      case "chat.purged":
        this.sidebar.remove(e.chat_id);
        if (here) { this.store.set({ chatId: null }); this.refresh(); }
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
      case "account.updated":
        this.store.set({ user: e.user });
        break;
      case "models.updated":  // an admin changed the catalogue: read it again
        this.call("models.list").then(({ models }) => {
          this.store.set({ models });
          this.conversation.setModels(models);
        }).catch(() => null);
        break;
      case "folder.created": case "folder.updated": case "folder.deleted":
        this.sidebar.load();  // rare, and a deleted folder's chats move with it: read them again
        break;
      default:
        break;  // profile, files and presence changes are read when their dialogs open
    }
  }
}

// "Анна Петрова" → "АП", "anna@example.com" → "A".
function initials(user) {
  const name = (user?.display_name || user?.email || "?").trim();
  const words = name.split(/\s+/).filter(Boolean);
  return (words.length > 1 ? words[0][0] + words[1][0] : name[0]).toUpperCase();
}

new App(document.getElementById("app")).start();
