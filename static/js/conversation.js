// One chat: the active branch, replies streaming in as markdown, stop (Esc), regenerate, edit,
// ‹ 2/3 › branch switching, per-message tokens and cost, the model picker and attachments.
import { upload } from "./api.js";
import { clear, h } from "./dom.js";
import { credits, describe, formatNumber, t } from "./i18n.js";
import { render, StreamRenderer } from "./markdown.js";
import { chatSettings } from "./panels.js";
import { shareDialog } from "./sharing.js";
import { copyActions, replyMeta, suggestions } from "./replies.js";

const PAGE = 50;  // messages drawn at first; "earlier" draws as many more

export class Conversation {
  constructor(ctx) {
    this.ctx = ctx;  // the store, requests and the app's actions (see App.ctx)
    this.shown = PAGE;  // how many of the newest are drawn
    // The newest state of each message seen in events: a chat.get answer can be older than events
    // that overtook it (a delta or the end of a reply while it was read), and must not undo them.
    this.seen = new Map();
    this.attachments = [];  // uploaded files waiting for the next send
    this.list = h("div", { class: "messages", "data-testid": "messages", "aria-live": "polite" });
    this.models = h("select", { class: "model", "aria-label": t("model"), "data-testid": "model" });
    this.input = h("textarea", { rows: 2, placeholder: t("placeholder"), "aria-label": t("placeholder"),
      "data-testid": "composer", onKeydown: (e) => this._key(e), onPaste: (e) => this._paste(e),
      // A changed text is another message: its retries must not reuse the last one's id.
      onInput: () => { this.draftId = null; } });
    this.draftId = null;  // the client_msg_id of the message being composed, kept across retries
    this.sending = false;
    this.queued = false;  // sent while a reply streams here: goes out when it ends
    this.readOnly = false;
    this.banner = h("div", { class: "banner", role: "status", hidden: true, "data-testid": "trashed-banner" },
      h("span", {}, t("trashed")),
      h("button", { class: "primary", "data-testid": "restore-chat",
        onClick: () => this._run("chat.restore", { chat_id: this._chatId() }) }, t("restore")));
    this.fileInput = h("input", { type: "file", hidden: true, multiple: true, onChange: () => this._attach() });
    this.tray = h("div", { class: "tray", "data-testid": "attachments" });
    this.sendButton = h("button", { class: "primary", "data-testid": "send", onClick: () => this.send() }, t("send"));
    this.stopButton = h("button", { class: "danger", hidden: true, "data-testid": "stop", onClick: () => this.stop() }, t("stop"));
    this.personal = h("input", { type: "checkbox", checked: true, onChange: () => this._chatId()
      && this._run("chat.update", { chat_id: this._chatId(), personalize: this.personal.checked }) });
    this.composer = h("div", { class: "composer" }, this.tray,
        h("div", { class: "composer-row" },
          h("button", { class: "icon attach", title: t("attach"), "aria-label": t("attach"),
            onClick: () => this.fileInput.click() }, "+"),
          this.input, this.sendButton, this.stopButton),
        h("div", { class: "composer-options" }, this.models,
          h("label", { class: "personal" }, this.personal, t("personalize")),
          h("button", { class: "link", "data-testid": "chat-settings",
            onClick: () => this._settings() }, t("chatSettings")),
          this.shareButton = h("button", { class: "link", "data-testid": "share-chat", hidden: true,
            onClick: () => shareDialog(this.ctx, this.chat).catch((e) => this.ctx.toast(e.message)) }, t("share"))),
        this.fileInput);
    this.el = h("section", { class: "conversation" }, this.banner, this.list, this.composer);
    // A saved chat with something in it can be shared; a draft cannot.
  }

  // The active branch, oldest first, and the open chat: kept in the store.
  get messages() { return this.ctx.store.state.messages; }
  set messages(list) { this.ctx.store.set({ messages: list }); }
  get chat() { return this.ctx.store.state.chat; }
  set chat(chat) { this.ctx.store.set({ chat }); }
  _chatId() { return this.ctx.store.state.chatId; }

  focus() { this.input.focus(); }

  _settings() {
    chatSettings(this.ctx, { chat: this.chat, model: this.models.value, personalize: this.personal.checked,
      systemPrompt: this.chat ? this.chat.system_prompt : this.draftSystemPrompt }, (saved) => {
      if (saved.chat) this.chat = { ...this.chat, ...saved.chat };
      else this.draftSystemPrompt = saved.system_prompt;
      this.models.value = saved.model ?? "";
      this.personal.checked = saved.personalize;
    });
  }

  setModels(models) {
    this.modelNames = new Map(models.map((m) => [m.id, m.name || m.id]));
    clear(this.models);
    for (const m of models) {
      this.models.append(h("option", { value: m.id, selected: m.default, dataset: { vision: m.vision } },
        `${m.name} — ${t("pricePerM", { input: credits(m.input_price), output: credits(m.output_price) })}`));
    }
  }

  show(chat) {
    if (chat.id !== this.chat?.id) this.shown = PAGE;
    this.chat = chat;
    this.messages = chat.messages.map((m) => this._newest(m));
    this.olderCursor = chat.messages_next_cursor;  // the server sends the newest page
    this.personal.checked = chat.personalize;
    if (chat.model) this.models.value = chat.model;
    this._readOnly(Boolean(chat.deleted_at));
    this.renderAll();
  }

  // A new chat not saved yet: nothing stored until its first message.
  showDraft() {
    this.chat = null;
    this.olderCursor = null;
    this.draftSystemPrompt = null;
    const preferred = this.ctx.store.state.user?.default_model;  // the user's choice for new chats
    if (preferred && this.modelNames?.has(preferred)) this.models.value = preferred;
    this.messages = [];
    this.personal.checked = true;
    this._readOnly(false);
    this.renderAll();
  }

  // A trashed chat reads as it was, with a banner to restore it and no composer.
  _readOnly(on) {
    this.readOnly = on;
    this.banner.hidden = !on;
    this.composer.hidden = on;
  }

  _newest(m) {
    const seen = this.seen.get(m.id);
    if (m.status !== "streaming") this.seen.delete(m.id);  // final in the answer: nothing to add
    if (!seen || m.status !== "streaming") return m;
    if (seen.status !== "streaming") return { ...m, ...seen };  // it ended while chat.get was read
    return seen.content.length > m.content.length && seen.content.startsWith(m.content)
      ? { ...m, content: seen.content } : m;
  }

  streaming() {
    return this.messages.find((m) => m.role === "assistant" && m.status === "streaming");
  }

  renderAll() {
    if (this._frame) {  // this paints everything: a pending delta repaint has nothing to add
      cancelAnimationFrame(this._frame);
      this._frame = null;
    }
    clear(this.list);
    this.streamer = null;  // its node is gone: the next delta draws into the new one
    this.shareButton.hidden = !this.chat || !this.messages.length;  // a draft cannot be shared
    if (!this.messages.length && !this.readOnly) {
      this.list.append(suggestions((text) => { this.input.value = text; this.send(); }));
    }
    // The newest page first: a chat of thousands opens as fast as one of fifty.
    const hidden = Math.max(0, this.messages.length - this.shown);
    if (hidden || this.olderCursor) {
      this.list.append(h("button", { class: "link earlier", "data-testid": "earlier",
        onClick: () => this._earlier(hidden) }, t("earlier")));
    }
    for (const message of this.messages.slice(hidden)) this.list.append(this._message(message));
    this._controls();
    if (!hidden || this.shown === PAGE) this.list.scrollTop = this.list.scrollHeight;
  }

  // Older messages: those read but not drawn yet, else the next page from the server.
  async _earlier(hidden) {
    const height = this.list.scrollHeight;
    if (!hidden) {
      const page = await this._run("message.list", { chat_id: this._chatId(), cursor: this.olderCursor });
      if (!page) return;
      this.messages = [...page.messages, ...this.messages];
      this.olderCursor = page.next_cursor;
    }
    this.shown += PAGE;
    this.renderAll();
    this.list.scrollTop = this.list.scrollHeight - height;  // stay where the reader was
  }

  // -- events --

  created(message) {
    const index = this.messages.findIndex((m) => m.id === message.id);
    if (index >= 0) this.messages[index] = message;
    else if (!this.messages.length || message.parent_id === this.messages.at(-1).id) this.messages.push(message);
    else return this.ctx.reloadChat();  // a new branch elsewhere in the tree: read it again
    this.renderAll();
  }

  delta(event) {
    const message = this.messages.find((m) => m.id === event.message_id);
    if (!message) return;
    message.content += event.delta;
    this.seen.set(message.id, { ...message });
    if (!this._frame) {  // one repaint per animation frame, whatever the number of deltas
      const id = message.id;
      this._frame = requestAnimationFrame(() => {
        this._frame = null;
        // Paint what the message is now, not what it was when the frame was asked for: the
        // reply may have ended (and been repainted whole) in between.
        const current = this.messages.find((m) => m.id === id);
        const node = this.list.querySelector(`[data-message-id="${id}"] .body`);
        if (!node || !current) return;
        if (this.streamer?.container !== node) this.streamer = new StreamRenderer(node);
        this.streamer.update(current.content);  // only the unfinished block is drawn again
        this.list.scrollTop = this.list.scrollHeight;
      });
    }
  }

  finished(event) {
    const index = this.messages.findIndex((m) => m.id === event.message_id);
    if (index < 0) return this.seen.set(event.message_id, event.message);
    this.messages[index] = { ...this.messages[index], ...event.message };
    this.seen.set(event.message_id, this.messages[index]);
    this.renderAll();
    if (this.queued && !this.streaming()) {  // the message typed meanwhile goes out now
      this.queued = false;
      this.send();
    }
  }

  // -- rendering --

  _message(m) {
    const body = h("div", { class: "body" });
    if (m.role === "assistant") render(body, m.content);
    else body.textContent = m.content;
    const files = (m.files || []).map((f) => f.kind === "image"
      ? h("img", { class: "thumb", src: `/api/v1/files/${f.id}`, alt: f.name, title: f.name })
      : h("span", { class: "chip" }, `▤ ${f.name}`));
    const meta = m.role === "assistant" ? replyMeta(m, this.modelNames) : "";
    return h("article", { class: `message ${m.role} ${m.status}`, "data-message-id": m.id, "data-status": m.status },
      files.length ? h("div", { class: "files" }, files) : null,
      body,
      h("footer", {}, this._branches(m), h("span", { class: "meta" }, meta), this._actions(m, body)));
  }

  _branches(m) {
    const siblings = m.sibling_ids || [m.id];
    if (siblings.length < 2) return null;
    const index = siblings.indexOf(m.id);
    const go = (i) => this._run("message.switch", { message_id: siblings[i] });
    return h("span", { class: "branches", title: t("branch", { index: index + 1, count: siblings.length }) },
      h("button", { class: "icon", disabled: index === 0, "aria-label": "‹", onClick: () => go(index - 1) }, "‹"),
      h("span", { "data-testid": "branch" }, `${index + 1}/${siblings.length}`),
      h("button", { class: "icon", disabled: index === siblings.length - 1, "aria-label": "›", onClick: () => go(index + 1) }, "›"));
  }

  _actions(m, body) {
    if (m.status === "streaming") return null;
    if (m.role === "assistant") {
      return h("span", { class: "actions" }, ...copyActions(m, body),
        this.readOnly ? null : h("button", { class: "link", "data-testid": "regenerate",
          onClick: () => this._run("message.regenerate", { message_id: m.id, model: this.models.value }) },
        t("regenerate")));
    }
    if (this.readOnly) return null;  // a trashed chat is read-only
    // A message kept unanswered (out of credits, say) is answered on request.
    const unanswered = m === this.messages.at(-1);
    return h("span", { class: "actions" },
      unanswered ? h("button", { class: "link", "data-testid": "retry", onClick: () => this._run(
        "message.regenerate", { message_id: m.id, model: this.models.value }) }, t("retry")) : null,
      h("button", { class: "link", "data-testid": "edit", onClick: (e) => this._edit(e.target.closest("article"), m) }, t("edit")),
      h("button", { class: "link", onClick: () => this.ctx.analyze(m.content) }, t("analyze")));
  }

  _edit(article, m) {
    const box = h("textarea", { class: "edit-box", rows: 3 });
    box.value = m.content;
    const body = article.querySelector(".body");
    body.replaceWith(h("div", { class: "editing" }, box,
      h("button", { class: "primary", "data-testid": "save-edit", onClick: () => this._run("message.edit",
        { message_id: m.id, content: box.value, model: this.models.value }) }, t("save")),
      h("button", { onClick: () => this.renderAll() }, t("cancel"))));
    box.focus();
  }

  _controls() {
    const busy = Boolean(this.streaming());
    this.stopButton.hidden = !busy;
    this.sendButton.disabled = this.sending || this.queued;
    this.sendButton.textContent = this.queued ? t("queued") : t("send");
  }

  // -- actions --

  _key(e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.send();
    } else if (e.key === "ArrowUp" && !this.input.value && !this.readOnly) {
      const last = this.messages.findLast((m) => m.role === "user");
      const article = last && this.list.querySelector(`[data-message-id="${last.id}"]`);
      if (article) {
        e.preventDefault();
        this._edit(article, last);
      }
    }
  }

  // Sends the composed message once: the button is off while it is in flight, a repeat while a
  // reply streams here waits for it, and a retry reuses the message's client_msg_id.
  async send() {
    const content = this.input.value.trim();
    if (!content || this.sending || this.readOnly) return;
    if (this.streaming()) {
      this.queued = true;
      return this._controls();
    }
    this.sending = true;
    this._controls();
    this.draftId ??= crypto.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    try {
      if (!this._chatId()) {  // the draft's first message: the chat is made now
        this.chat = await this.ctx.saveDraft({ model: this.models.value || null,
          system_prompt: this.draftSystemPrompt || null });  // the server names it after the reply
        this.draftSystemPrompt = null;
        if (!this.personal.checked) {
          await this.ctx.call("chat.update", { chat_id: this.chat.id, personalize: false });
        }
      }
      const params = { chat_id: this._chatId(), content, model: this.models.value,
        client_msg_id: this.draftId };
      if (this.attachments.length) params.file_ids = this.attachments.map((f) => f.id);
      await this.ctx.call("message.send", params);
      this._sent();
    } catch (error) {
      if (error.code === "insufficient_balance") this._sent();  // kept on the server: Retry is on it
      if (error.code === "too_large") {
        const max = Math.floor(content.length * (error.limit - 512) / error.size);
        this.ctx.toast(t("tooLong", { max: formatNumber(Math.max(0, max)) }));
      } else this.ctx.toast(describe(error));
    } finally {
      this.sending = false;
      this._controls();
    }
  }

  _sent() {
    this.input.value = "";
    this.draftId = null;
    this.attachments = [];
    clear(this.tray);
  }

  // A pasted text too long for one message is offered as a file instead.
  _paste(e) {
    const text = e.clipboardData?.getData("text/plain");
    const limit = this.ctx.store.state.maxFrameBytes;
    if (!text || !limit || new TextEncoder().encode(text).length < limit - 1024) return;
    if (!confirm(t("attachInstead"))) return;
    e.preventDefault();
    this._upload([new File([text], "pasted.txt", { type: "text/plain" })]);
  }

  async stop() {
    const streaming = this.streaming();
    if (streaming) await this._run("message.stop", { message_id: streaming.id });
  }

  async _run(type, params) {
    try {
      return await this.ctx.call(type, params);
    } catch (error) {
      this.ctx.toast(describe(error));
      return null;
    }
  }

  async _attach() {
    await this._upload([...this.fileInput.files]);
    this.fileInput.value = "";
  }

  async _upload(files) {
    for (const file of files) {
      const bar = h("progress", { max: 1, value: 0 });
      const chip = h("span", { class: "chip uploading" }, t("uploading", { name: file.name }), bar);
      this.tray.append(chip);
      try {
        const info = await upload(file, (share) => { bar.value = share; });
        this.attachments.push(info);
        const preview = info.kind === "image"
          ? h("img", { class: "thumb", src: URL.createObjectURL(file), alt: info.name }) : `▤ ${info.name}`;
        chip.replaceWith(h("span", { class: "chip", "data-file-id": info.id }, preview,
          h("button", { class: "icon", title: t("remove"), "aria-label": t("remove"), onClick: (e) => {
            this.attachments = this.attachments.filter((f) => f.id !== info.id);
            e.target.closest(".chip").remove();
          } }, "✕")));
      } catch (error) {
        chip.replaceWith(h("span", { class: "chip error", role: "alert" }, `${file.name}: ${error.message}`));
      }
    }
  }
}
