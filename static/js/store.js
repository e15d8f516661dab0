// The client's state in one place. Modules read it here and are told when a part of it changes;
// each part has one writer: App (user, chatId, drafting, account, connection, models,
// maxFrameBytes), the Sidebar (chats) and the Conversation (chat, messages). Nothing reaches into
// another module for its data.
export class Store {
  constructor(state = {}) {
    this.state = { user: null, chatId: null, drafting: false, chat: null, messages: [], chats: [],
      account: null, models: [], connection: "connecting", maxFrameBytes: null, ...state };
    this._listeners = new Map();
  }

  set(patch) {
    const changed = Object.keys(patch).filter((key) => this.state[key] !== patch[key]);
    Object.assign(this.state, patch);
    for (const key of changed) for (const listener of this._listeners.get(key) ?? []) listener(this.state[key]);
  }

  // Calls `listener(value)` whenever `key` changes; returns what stops it.
  on(key, listener) {
    if (!this._listeners.has(key)) this._listeners.set(key, new Set());
    this._listeners.get(key).add(listener);
    return () => this._listeners.get(key).delete(listener);
  }
}
