// The web client's socket: chatwire-client (clients/js/, served at /static/chatwire-client/) with
// the session cookie. It connects to this page's /ws, resumes with last_seq and epoch after a
// drop, answers requests by id, queues a message.send (it carries a client_msg_id) while
// offline, and hands events on in seq order; this wrapper only keeps the app's names.
import { ChatwireClient } from "/static/chatwire-client/index.js";

export class Socket {
  constructor({ onEvent, onState, onResync, onLoggedOut }) {
    this.client = new ChatwireClient({ onEvent, onState, onResync, onLoggedOut: (error) => onLoggedOut(error?.closeCode) });
  }

  get state() {
    return this.client.state === "idle" ? "connecting" : this.client.state;
  }

  get hello() {  // who we are, and the largest frame the server reads
    return this.client.hello;
  }

  get ws() {  // the socket of the moment (the browser tests drop it)
    return this.client.ws;
  }

  // Resolves with the first hello; signed out (4401) it stays pending: onLoggedOut shows the form.
  connect() {
    return this.client.connect().catch(() => new Promise(() => {}));
  }

  close() {
    this.client.close();
  }

  // A request's reply; a frame over the server's limit is refused here (`too_large`, with sizes).
  call(type, params = {}) {
    return this.client.request(type, params);
  }
}
