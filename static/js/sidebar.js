// The chat list: folders, then the chats in none, newest first; full-text search, favorites, tags,
// trash with restore and purge, rename inline; chats imported from a file. Searching, a tab other
// than "All" or a tag lists chats wherever they are.
import { importChats } from "./api.js";
import { clear, h } from "./dom.js";
import { DRAG_TYPE, FolderTree, dropTarget } from "./folders.js";
import { describe, t } from "./i18n.js";

export class Sidebar {
  constructor(ctx) {
    this.ctx = ctx;  // the store, requests and the app's actions (see App.ctx)
    this.filter = { q: "", favorite: null, tag: null, trashed: false };
    this.list = h("ul", { class: "chat-list", "data-testid": "chat-list" });
    this.folders = new FolderTree(ctx, { item: (chat, extra) => this._item(chat, extra),
      changed: () => this.render() });
    // Dropped anywhere else in the list: out of its folder.
    dropTarget(this.list, (chatId) => this.folders.holds(chatId) && this.folders.move(chatId, null),
      { highlight: false });
    this.search = h("input", { type: "search", placeholder: t("search"), "aria-label": t("search"),
      onInput: () => { clearTimeout(this._typing); this._typing = setTimeout(() => this.load(), 200); } });
    this.tabs = h("div", { class: "tabs" },
      this._tab("all", t("allChats")), this._tab("favorites", t("favorites")), this._tab("trash", t("trash")));
    this.tagBar = h("div", { class: "tag-bar" });
    // Shown on a phone, where the sidebar is a drawer over the chat.
    this.closeButton = h("button", { class: "icon close-drawer", "aria-label": t("close"),
      "data-testid": "close-drawer", onClick: () => ctx.closeDrawer() }, "✕");
    // The file picker behind "Import": the chats it makes arrive as chat.created events.
    this.importFile = h("input", { type: "file", accept: ".json,application/json", hidden: true,
      "data-testid": "import-file", onChange: () => this._import() });
    this.el = h("aside", { class: "sidebar", "aria-label": t("allChats") },
      h("div", { class: "sidebar-top" },
        h("button", { class: "primary new-chat", "data-testid": "new-chat", onClick: () => ctx.newChat() }, t("newChat")),
        h("button", { class: "icon new-folder", title: t("newFolder"), "aria-label": t("newFolder"),
          "data-testid": "new-folder", onClick: () => this.folders.edit(null) },
        h("img", { src: "/static/icons/folder-plus.svg", alt: "", width: 20, height: 20 })),
        h("button", { class: "import-chats", "data-testid": "import-chats", title: t("importHint"),
          "aria-label": t("importChats"), onClick: () => this.importFile.click() }, t("importShort")),
        this.importFile, this.closeButton),
      this.search, this.tabs, this.tagBar, this.list);
  }

  // The chats listed, newest first: kept in the store.
  get chats() { return this.ctx.store.state.chats; }
  set chats(list) { this.ctx.store.set({ chats: list }); }

  inTrash() { return this.filter.trashed; }
  // The plain "All" view: folders first, then the chats in none.
  foldered() {
    return !this.filter.trashed && !this.filter.favorite && !this.filter.tag && !this.search.value.trim();
  }
  focusSearch() { this.search.focus(); }
  focusClose() { this.closeButton.focus(); }

  _tab(name, label) {
    return h("button", { class: name === "all" ? "tab active" : "tab", "data-tab": name, onClick: (e) => {
      for (const b of this.tabs.children) b.classList.toggle("active", b === e.currentTarget);
      this.filter.favorite = name === "favorites" ? true : null;
      this.filter.trashed = name === "trash";
      this.load();
    } }, label);
  }

  async load() {
    const params = { trashed: this.filter.trashed, limit: 100 };
    const q = this.search.value.trim();
    if (q) params.q = q;
    if (this.filter.favorite) params.favorite = true;
    if (this.filter.tag) params.tag = this.filter.tag;
    if (this.foldered()) params.folder_id = null;
    const [{ chats }] = await Promise.all([this.ctx.call("chat.list", params), this.folders.load()]);
    this.chats = chats;
    this.render();
  }

  upsert(chat) {
    const matches = Boolean(chat.deleted_at) === this.filter.trashed &&
      (!this.filter.favorite || chat.favorite) && (!this.filter.tag || chat.tags.includes(this.filter.tag)) &&
      (!this.foldered() || !chat.folder_id);
    if (this.foldered()) this.folders.place(chat);
    const shown = this.chats.find((c) => c.id === chat.id);
    this.chats = this.chats.filter((c) => c.id !== chat.id);
    if (this.search.value.trim()) {  // a search result stays one (with its snippet) while it matches
      if (matches && shown) this.chats.push({ ...chat, snippet: shown.snippet });
    } else if (matches) this.chats.unshift(chat);
    this.chats.sort((a, b) => (a.updated_at < b.updated_at ? 1 : -1));
    this.render();
  }

  async _import() {
    const file = this.importFile.files[0];
    this.importFile.value = "";  // the same file may be picked again
    if (!file) return;
    try {
      const { chats } = await importChats(file);
      this.ctx.toast(chats.length ? t("imported", { count: chats.length }) : t("importedNone"));
    } catch (error) {
      this.ctx.toast(t("importFailed", { error: describe(error) }));
    }
  }

  remove(chatId) {
    this.chats = this.chats.filter((c) => c.id !== chatId);
    this.folders.remove(chatId);
    this.render();
  }

  render() {
    clear(this.list);
    const tags = new Set(this.chats.flatMap((c) => c.tags));
    clear(this.tagBar);
    for (const tag of [...tags].sort()) {
      this.tagBar.append(h("button", { class: this.filter.tag === tag ? "chip active" : "chip", onClick: () => {
        this.filter.tag = this.filter.tag === tag ? null : tag;
        this.load();
      } }, `#${tag}`));
    }
    const folders = this.foldered() ? this.folders.rows() : [];
    this.list.append(...folders);
    if (!this.chats.length) {
      if (!folders.length) this.list.append(h("li", { class: "empty" }, this.filter.trashed ? t("emptyTrash") : t("emptyChats")));
      return;
    }
    if (this.search.value.trim()) {  // search results keep the server's order
      for (const chat of this.chats) this.list.append(this._item(chat));
      return;
    }
    let group = null;
    for (const chat of this.chats) {
      const name = dateGroup(chat.updated_at);
      if (name !== group) {
        group = name;
        this.list.append(h("li", { class: "group", "data-testid": "chat-group" }, t(name)));
      }
      this.list.append(this._item(chat));
    }
  }

  _item(chat, extra = "") {
    const title = h("span", { class: "title", title: t("rename") }, chat.title || t("untitled"));
    const found = chat.snippet ? marked(chat.snippet) : null;
    const classes = ["chat", chat.id === this.ctx.store.state.chatId ? "active" : "", extra].filter(Boolean);
    const item = h("li", { class: classes.join(" "), "data-chat-id": chat.id, draggable: chat.deleted_at ? null : "true",
      onDragstart: (e) => { e.dataTransfer.setData(DRAG_TYPE, chat.id); e.dataTransfer.effectAllowed = "move"; } },
      h("button", { class: "open", onClick: () => this.ctx.openChat(chat.id),
        onDblclick: () => !chat.deleted_at && this._rename(item, chat) }, title, found),
      chat.deleted_at
        ? h("span", { class: "actions" },
          h("button", { class: "icon", title: t("restore"), "aria-label": t("restore"),
            onClick: () => this.ctx.call("chat.restore", { chat_id: chat.id }) }, "↺"),
          h("button", { class: "icon danger", title: t("purge"), "aria-label": t("purge"), onClick: () => {
            if (confirm(t("confirmPurge"))) this.ctx.call("chat.purge", { chat_id: chat.id });
          } }, "✕"))
        : h("span", { class: "actions" },
          h("button", { class: chat.favorite ? "icon star on" : "icon star", title: t("favorite"), "aria-label": t("favorite"),
            onClick: () => this.ctx.call("chat.update", { chat_id: chat.id, favorite: !chat.favorite }) }, "★"),
          h("button", { class: "icon", title: t("rename"), "aria-label": t("rename"), onClick: () => this._rename(item, chat) }, "✎"),
          h("button", { class: "icon", title: t("tags"), "aria-label": t("tags"), onClick: () => this._tags(item, chat) }, "#"),
          h("button", { class: "icon", title: t("moveTo"), "aria-label": t("moveTo"), "data-testid": "move-chat-to",
            onClick: () => this.folders.moveDialog(chat) }, "⇥"),
          h("button", { class: "icon", title: t("delete"), "aria-label": t("delete"),
            onClick: () => this.ctx.call("chat.delete", { chat_id: chat.id }) }, "⌫")));
    return item;
  }

  _tags(item, chat) {
    this._inline(item, chat.tags.join(", "), t("tags"), (value) => this.ctx.call("chat.update",
      { chat_id: chat.id, tags: value.split(",").map((tag) => tag.trim()).filter(Boolean) }),
    { placeholder: "travel, work" });
  }

  _rename(item, chat) {
    this._inline(item, chat.title, t("rename"), (value) => value.trim() === chat.title ? null
      : this.ctx.call("chat.update", { chat_id: chat.id, title: value.trim() || null }),
    { saveOnBlur: true });
  }

  // An input in place of the chat's title: Enter saves (so does leaving it, with saveOnBlur),
  // Escape cancels; whichever comes first wins.
  _inline(item, value, label, save, { placeholder, saveOnBlur = false }) {
    const input = h("input", { class: "rename", value, "aria-label": label, placeholder });
    let done = false;
    const finish = async (keep) => {
      if (done) return;
      done = true;
      if (keep) await save(input.value)?.catch?.((e) => this.ctx.toast(e.message));
      this.render();
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") finish(true);
      if (e.key === "Escape") finish(false);
    });
    input.addEventListener("blur", () => finish(saveOnBlur));
    item.firstChild.replaceWith(input);
    input.focus();
    input.select();
  }
}

// Today, Yesterday, Previous 7 days or Older, by the reader's own calendar.
function dateGroup(iso) {
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((day(new Date()) - day(new Date(iso))) / 86_400_000);
  if (days <= 0) return "today";
  if (days === 1) return "yesterday";
  return days <= 7 ? "week" : "older";
}

// A search result's snippet with its matched words marked (as text nodes: never as HTML).
function marked({ text, matches }) {
  const parts = [];
  let at = 0;
  for (const [start, end] of matches) {
    if (start < at) continue;
    parts.push(text.slice(at, start), h("mark", {}, text.slice(start, end)));
    at = end;
  }
  parts.push(text.slice(at));
  return h("span", { class: "snippet", "data-testid": "snippet" }, parts);
}
