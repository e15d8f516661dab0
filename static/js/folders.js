// Folders in the sidebar: collapsible groups of chats above the loose ones, each with optional
// instructions for the model. A chat moves by dragging it onto a folder (or onto the list, out of
// one) or by its "Move to folder" dialog. Which folders are open is remembered in localStorage.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { dialog } from "./panels.js";

const OPEN_KEY = "chatwire.openFolders";
export const DRAG_TYPE = "application/x-chatwire-chat";

export class FolderTree {
  // `item(chat)` draws a chat's row (the sidebar's); `changed()` asks the sidebar to redraw.
  constructor(ctx, { item, changed }) {
    this.ctx = ctx;
    this.item = item;
    this.changed = changed;
    this.folders = [];
    this.chats = new Map();  // folder id -> its chats, for the open folders
    this.open = new Set(JSON.parse(localStorage.getItem(OPEN_KEY) || "[]"));
  }

  async load() {
    const { folders } = await this.ctx.call("folder.list");
    this.folders = folders;
    this.chats = new Map();
    await Promise.all(folders.filter((f) => this.open.has(f.id)).map((f) => this._loadChats(f.id)));
  }

  async _loadChats(folderId) {
    const { chats } = await this.ctx.call("chat.list", { folder_id: folderId, limit: 100 });
    this.chats.set(folderId, chats);
  }

  async toggle(folderId) {
    if (this.open.has(folderId)) this.open.delete(folderId);
    else {
      this.open.add(folderId);
      await this._loadChats(folderId);
    }
    localStorage.setItem(OPEN_KEY, JSON.stringify([...this.open]));
    this.changed();
  }

  // A chat that changed: out of every folder's list, into its own folder's if that one is open.
  place(chat) {
    for (const [id, chats] of this.chats) this.chats.set(id, chats.filter((c) => c.id !== chat.id));
    const list = chat.folder_id && !chat.deleted_at ? this.chats.get(chat.folder_id) : null;
    if (list) list.unshift(chat);
  }

  holds(chatId) {
    return [...this.chats.values()].some((chats) => chats.some((c) => c.id === chatId));
  }

  remove(chatId) {
    for (const [id, chats] of this.chats) this.chats.set(id, chats.filter((c) => c.id !== chatId));
  }

  // The folders' rows (and an open folder's chats) for the sidebar's list.
  rows() {
    if (!this.folders.length) return [];
    const rows = [h("li", { class: "group" }, t("folders"))];
    for (const folder of this.folders) {
      const open = this.open.has(folder.id);
      const row = h("li", { class: open ? "folder open" : "folder", "data-folder-id": folder.id,
        "data-testid": "folder" },
      h("button", { class: "open", "aria-expanded": String(open), title: folder.instructions || "",
        onClick: () => this.toggle(folder.id).catch((e) => this.ctx.toast(e.message)) },
      h("span", { class: "caret", "aria-hidden": "true" }, open ? "▾" : "▸"),
      h("span", { class: "title" }, folder.name),
      folder.instructions ? h("span", { class: "has-instructions", title: t("folderInstructions") }, "✦") : null),
      h("span", { class: "actions" },
        h("button", { class: "icon", title: t("editFolder"), "aria-label": t("editFolder"),
          onClick: () => this.edit(folder) }, "✎"),
        h("button", { class: "icon danger", title: t("deleteFolder"), "aria-label": t("deleteFolder"),
          onClick: () => this.confirmDelete(folder) }, "⌫")));
      dropTarget(row, (chatId) => this.move(chatId, folder.id));
      rows.push(row);
      if (!open) continue;
      const chats = this.chats.get(folder.id) || [];
      if (!chats.length) rows.push(h("li", { class: "empty in-folder" }, t("emptyFolder")));
      for (const chat of chats) rows.push(this.item(chat, "in-folder"));
    }
    rows.push(h("li", { class: "group" }, t("chatsHeading")));
    return rows;
  }

  move(chatId, folderId) {
    return this.ctx.call("chat.update", { chat_id: chatId, folder_id: folderId })
      .catch((e) => this.ctx.toast(e.message));
  }

  // Create (folder null) or edit a folder: its name and instructions.
  edit(folder) {
    const name = h("input", { value: folder?.name || "", maxlength: 100, required: true,
      "aria-label": t("folderName"), "data-testid": "folder-name" });
    const instructions = h("textarea", { rows: 5, maxlength: 4000, placeholder: t("folderInstructionsHint"),
      "aria-label": t("folderInstructions"), "data-testid": "folder-instructions" });
    instructions.value = folder?.instructions || "";
    const box = dialog(folder ? t("editFolder") : t("newFolder"),
      h("div", { class: "settings" }, h("label", {}, t("folderName"), name),
        h("label", {}, t("folderInstructions"), instructions)),
      h("footer", {}, h("button", { class: "primary", "data-testid": "save-folder", onClick: async () => {
        const fields = { name: name.value.trim(), instructions: instructions.value.trim() || null };
        if (!fields.name) return name.focus();
        try {
          await (folder ? this.ctx.call("folder.update", { folder_id: folder.id, ...fields })
            : this.ctx.call("folder.create", fields));
          box.close();
        } catch (error) { this.ctx.toast(error.message); }
      } }, t("save"))));
    name.focus();
  }

  confirmDelete(folder) {
    if (!confirm(t("confirmDeleteFolder", { name: folder.name }))) return;
    this.ctx.call("folder.delete", { folder_id: folder.id }).catch((e) => this.ctx.toast(e.message));
  }

  // The "Move to folder" dialog of one chat.
  moveDialog(chat) {
    const choice = h("select", { "aria-label": t("moveTo"), "data-testid": "move-to-folder" },
      h("option", { value: "" }, t("noFolder")),
      this.folders.map((f) => h("option", { value: f.id, selected: f.id === chat.folder_id }, f.name)));
    const box = dialog(t("moveTo"), h("div", { class: "settings" }, choice),
      h("footer", {}, h("button", { class: "primary", "data-testid": "move-chat", onClick: async () => {
        await this.move(chat.id, choice.value || null);
        box.close();
      } }, t("move"))));
    choice.focus();
  }
}

// Dropping a dragged chat on `el` calls `drop(chatId)`; a drop target inside another takes it first.
export function dropTarget(el, drop, { highlight = true } = {}) {
  el.addEventListener("dragover", (e) => {
    if (!e.dataTransfer.types.includes(DRAG_TYPE)) return;
    e.preventDefault();
    e.stopPropagation();
    if (highlight) el.classList.add("drop");
  });
  el.addEventListener("dragleave", () => el.classList.remove("drop"));
  el.addEventListener("drop", (e) => {
    el.classList.remove("drop");
    const chatId = e.dataTransfer.getData(DRAG_TYPE);
    if (!chatId) return;
    e.preventDefault();
    e.stopPropagation();
    drop(chatId);
  });
}
