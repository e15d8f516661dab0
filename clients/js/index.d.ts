// chatwire-client type declarations. GENERATED from docs/frames.schema.json by
// scripts/gen_client_types.py: do not edit by hand, run the script again.

export interface ApiKey {
  created_at: string;
  expires_at: string | null;
  id: string;
  last_used_at: string | null;
  models: string[] | null;
  monthly_cap: number | null;
  name: string;
  prefix: string;
  revoked_at: string | null;
}

export interface Chat {
  created_at: string;
  current_message_id?: string | null;
  deleted_at: string | null;
  favorite: boolean;
  folder_id: string | null;
  id: string;
  model: string | null;
  personalize: boolean;
  snippet?: null | {
    matches: [number, number][];
    text: string;
  };
  system_prompt: string | null;
  tags: string[];
  title: string;
  updated_at: string;
}

export interface Device {
  connected_since: string;
  connection_id: string;
  instance: string;
  user_agent: string;
}

export interface WireError {
  code: "bad_request" | "unknown_type" | "unauthorized" | "forbidden" | "not_found" | "conflict" | "too_large" | "rate_limited" | "insufficient_balance" | "provider_error" | "provider_unavailable" | "unsupported_file_type" | "email_unverified" | "spend_cap_reached" | "account_disabled" | "unavailable" | "internal";
  field?: string;
  fields?: string[];
  message: string;
  retry_after?: number;
}

export interface AccountUpdatedEvent {
  seq: number;
  type: "account.updated";
  user: User;
}

export interface ApikeyCreatedEvent {
  api_key: ApiKey;
  seq: number;
  type: "apikey.created";
}

export interface ApikeyRevokedEvent {
  api_key_id: string;
  seq: number;
  type: "apikey.revoked";
}

export interface BalanceUpdatedEvent {
  /** micro-credits (1 credit = 1,000,000) */
  available: number;
  /** micro-credits (1 credit = 1,000,000) */
  balance: number;
  /** micro-credits (1 credit = 1,000,000) */
  reserved: number;
  seq: number;
  type: "balance.updated";
}

export interface ChatCreatedEvent {
  chat: Chat;
  chat_id: string;
  seq: number;
  type: "chat.created";
}

export interface ChatDeletedEvent {
  chat: Chat;
  chat_id: string;
  seq: number;
  type: "chat.deleted";
}

export interface ChatPurgedEvent {
  chat_id: string;
  seq: number;
  type: "chat.purged";
}

export interface ChatRestoredEvent {
  chat: Chat;
  chat_id: string;
  seq: number;
  type: "chat.restored";
}

export interface ChatUpdatedEvent {
  chat: Chat;
  chat_id: string;
  seq: number;
  type: "chat.updated";
}

export interface ErrorFrame {
  error: WireError;
  type: "error";
}

export interface FileCreatedEvent {
  file: File;
  seq: number;
  type: "file.created";
}

export interface FileDeletedEvent {
  file_id: string;
  seq: number;
  type: "file.deleted";
}

export interface FolderCreatedEvent {
  folder: Folder;
  seq: number;
  type: "folder.created";
}

export interface FolderDeletedEvent {
  chat_ids: string[];
  folder_id: string;
  seq: number;
  type: "folder.deleted";
}

export interface FolderUpdatedEvent {
  folder: Folder;
  seq: number;
  type: "folder.updated";
}

export interface HelloFrame {
  connection_id: string;
  epoch: string;
  last_seq: number;
  max_frame_bytes: number;
  server_time: string;
  type: "hello";
  user: User;
}

export interface MessageCreatedEvent {
  chat_id: string;
  message: Message;
  message_id: string;
  seq: number;
  type: "message.created";
}

export interface MessageDeltaEvent {
  chat_id: string;
  delta: string;
  index: number;
  message_id: string;
  seq: number;
  type: "message.delta";
}

export interface MessageDoneEvent {
  /** micro-credits (1 credit = 1,000,000) */
  balance?: number;
  chat_id: string;
  /** micro-credits (1 credit = 1,000,000) */
  cost: number;
  message: Message;
  message_id: string;
  seq: number;
  type: "message.done";
  usage: Usage;
}

export interface MessageErrorEvent {
  chat_id: string;
  error: WireError;
  message: Message;
  message_id: string;
  seq: number;
  type: "message.error";
}

export interface MessageInterruptedEvent {
  /** micro-credits (1 credit = 1,000,000) */
  balance?: number;
  chat_id: string;
  /** micro-credits (1 credit = 1,000,000) */
  cost: number;
  message: Message;
  message_id: string;
  seq: number;
  type: "message.interrupted";
  usage: Usage;
}

export interface MessageStoppedEvent {
  /** micro-credits (1 credit = 1,000,000) */
  balance?: number;
  chat_id: string;
  /** micro-credits (1 credit = 1,000,000) */
  cost: number;
  message: Message;
  message_id: string;
  seq: number;
  type: "message.stopped";
  usage: Usage;
}

export interface ModelsUpdatedEvent {
  type: "models.updated";
}

export interface PresenceChangedEvent {
  change: "connected" | "disconnected";
  connection_id: string;
  device?: Device;
  type: "presence.changed";
}

export interface ProfileUpdatedEvent {
  seq: number;
  type: "profile.updated";
  updated_at: string;
}

export interface ResyncRequiredFrame {
  epoch: string;
  last_seq: number;
  type: "resync_required";
}

export interface ShareCreatedEvent {
  seq: number;
  share: Share;
  type: "share.created";
}

export interface ShareRevokedEvent {
  seq: number;
  share_id: string;
  type: "share.revoked";
}

export interface File {
  created_at: string;
  id: string;
  kind: "image" | "document";
  mime: string;
  name: string;
  sha256: string;
  size: number;
}

export interface FileSummary {
  id: string;
  kind: "image" | "document";
  mime: string;
  name: string;
  size: number;
}

export interface Folder {
  created_at: string;
  id: string;
  instructions: string | null;
  name: string;
  updated_at: string;
}

export interface Message {
  cache_write_tokens: number;
  cached_tokens: number;
  chat_id: string;
  client_msg_id: string | null;
  completion_tokens: number;
  content: string;
  /** micro-credits (1 credit = 1,000,000) */
  cost: number;
  created_at: string;
  error_code: "bad_request" | "unknown_type" | "unauthorized" | "forbidden" | "not_found" | "conflict" | "too_large" | "rate_limited" | "insufficient_balance" | "provider_error" | "provider_unavailable" | "unsupported_file_type" | "email_unverified" | "spend_cap_reached" | "account_disabled" | "unavailable" | "internal" | null;
  files: FileSummary[];
  id: string;
  model: string | null;
  parent_id: string | null;
  prompt_tokens: number;
  reasoning_tokens: number;
  role: "system" | "user" | "assistant";
  sibling_ids?: string[];
  status: "complete" | "streaming" | "stopped" | "error" | "interrupted";
  updated_at: string;
}

export interface Profile {
  beliefs: ProfileItem[];
  desires: ProfileItem[];
  intentions: ProfileItem[];
  interests: ProfileItem[];
  skills: ProfileItem[];
  updated_at: string | null;
  values: ProfileItem[];
}

export interface ProfileItem {
  note: string | null;
  text: string;
  weight: number | null;
}

export interface ProfileItemIn {
  note?: string | null;
  text: string;
  weight?: number | null;
}

export type ReplyFrame = {
  /** the request's result; its shape per request type is in docs/PROTOCOL.md */
  data: unknown;
  id: string | number | null;
  ok: true;
  type: "reply";
} | {
  error: WireError;
  id: string | number | null;
  ok: false;
  type: "reply";
};

export interface AccountDeleteRequest {
  id?: string | number | null;
  password: string;
  type: "account.delete";
}

export interface AccountPasswordRequest {
  current_password: string;
  id?: string | number | null;
  new_password: string;
  type: "account.password";
}

export interface AccountUpdateRequest {
  default_model?: string | null;
  display_name?: string | null;
  id?: string | number | null;
  type: "account.update";
}

export interface ApikeyCreateRequest {
  expires_at?: string | null;
  id?: string | number | null;
  models?: string[] | null;
  monthly_cap?: number | null;
  name: string;
  type: "apikey.create";
}

export interface ApikeyListRequest {
  id?: string | number | null;
  type: "apikey.list";
}

export interface ApikeyRevokeRequest {
  api_key_id: string;
  id?: string | number | null;
  type: "apikey.revoke";
}

export interface AuthRequest {
  id?: string | number | null;
  token: string;
  type: "auth";
}

export interface BalanceGetRequest {
  id?: string | number | null;
  type: "balance.get";
}

export interface BillingCheckoutRequest {
  id?: string | number | null;
  pack_id: string;
  provider: string;
  type: "billing.checkout";
}

export interface BillingOrdersRequest {
  cursor?: string | null;
  id?: string | number | null;
  limit?: number;
  order_id?: string | null;
  type: "billing.orders";
}

export interface BillingPacksRequest {
  id?: string | number | null;
  type: "billing.packs";
}

export interface ChatCreateRequest {
  favorite?: boolean;
  id?: string | number | null;
  model?: string | null;
  system_prompt?: string | null;
  tags?: string[];
  title?: string | null;
  type: "chat.create";
}

export interface ChatDeleteRequest {
  chat_id: string;
  id?: string | number | null;
  type: "chat.delete";
}

export interface ChatGetRequest {
  chat_id: string;
  id?: string | number | null;
  type: "chat.get";
}

export interface ChatListRequest {
  cursor?: string | null;
  favorite?: boolean | null;
  folder_id?: string | null;
  id?: string | number | null;
  limit?: number;
  q?: string | null;
  tag?: string | null;
  trashed?: boolean;
  type: "chat.list";
}

export interface ChatPurgeRequest {
  chat_id: string;
  id?: string | number | null;
  type: "chat.purge";
}

export interface ChatRestoreRequest {
  chat_id: string;
  id?: string | number | null;
  type: "chat.restore";
}

export interface ChatShareRequest {
  chat_id: string;
  id?: string | number | null;
  type: "chat.share";
}

export interface ChatUnshareRequest {
  id?: string | number | null;
  share_id: string;
  type: "chat.unshare";
}

export interface ChatUpdateRequest {
  chat_id: string;
  favorite?: boolean;
  folder_id?: string | null;
  id?: string | number | null;
  model?: string | null;
  personalize?: boolean;
  system_prompt?: string | null;
  tags?: string[];
  title?: string | null;
  type: "chat.update";
}

export interface FileDeleteRequest {
  file_id: string;
  id?: string | number | null;
  type: "file.delete";
}

export interface FileListRequest {
  cursor?: string | null;
  id?: string | number | null;
  limit?: number;
  type: "file.list";
}

export interface FolderCreateRequest {
  id?: string | number | null;
  instructions?: string | null;
  name: string;
  type: "folder.create";
}

export interface FolderDeleteRequest {
  folder_id: string;
  id?: string | number | null;
  type: "folder.delete";
}

export interface FolderListRequest {
  id?: string | number | null;
  type: "folder.list";
}

export interface FolderUpdateRequest {
  folder_id: string;
  id?: string | number | null;
  instructions?: string | null;
  name?: string;
  type: "folder.update";
}

export interface MessageEditRequest {
  content: string;
  id?: string | number | null;
  message_id: string;
  model?: string | null;
  type: "message.edit";
}

export interface MessageListRequest {
  chat_id: string;
  cursor?: string | null;
  id?: string | number | null;
  limit?: number;
  type: "message.list";
}

export interface MessageRegenerateRequest {
  id?: string | number | null;
  message_id: string;
  model?: string | null;
  type: "message.regenerate";
}

export interface MessageSendRequest {
  chat_id: string;
  client_msg_id?: string | null;
  content: string;
  file_ids?: string[];
  id?: string | number | null;
  model?: string | null;
  type: "message.send";
}

export interface MessageStopRequest {
  id?: string | number | null;
  message_id: string;
  type: "message.stop";
}

export interface MessageSwitchRequest {
  id?: string | number | null;
  message_id: string;
  type: "message.switch";
}

export interface ModelsListRequest {
  id?: string | number | null;
  type: "models.list";
}

export interface PingRequest {
  id?: string | number | null;
  type: "ping";
}

export interface PresenceGetRequest {
  id?: string | number | null;
  type: "presence.get";
}

export interface ProfileAnalyzeRequest {
  apply?: boolean;
  id?: string | number | null;
  text: string;
  type: "profile.analyze";
}

export interface ProfileGetRequest {
  id?: string | number | null;
  type: "profile.get";
}

export interface ProfileUpdateRequest {
  beliefs?: (string | ProfileItemIn)[];
  desires?: (string | ProfileItemIn)[];
  id?: string | number | null;
  intentions?: (string | ProfileItemIn)[];
  interests?: (string | ProfileItemIn)[];
  skills?: (string | ProfileItemIn)[];
  type: "profile.update";
  values?: (string | ProfileItemIn)[];
}

export interface ResumeRequest {
  epoch?: string | null;
  id?: string | number | null;
  last_seq: number;
  type: "resume";
}

export interface SessionListRequest {
  id?: string | number | null;
  type: "session.list";
}

export interface SessionRevokeRequest {
  id?: string | number | null;
  session_id: string;
  type: "session.revoke";
}

export interface ShareContinueRequest {
  id?: string | number | null;
  share_id: string;
  type: "share.continue";
}

export interface ShareListRequest {
  id?: string | number | null;
  type: "share.list";
}

export interface TransactionsListRequest {
  cursor?: string | null;
  id?: string | number | null;
  kind?: string | null;
  limit?: number;
  type: "transactions.list";
}

export interface Share {
  chat_id: string;
  created_at: string;
  id: string;
  message_count: number;
  title: string;
  url: string;
}

export interface Usage {
  cache_write_tokens: number;
  cached_tokens: number;
  completion_tokens: number;
  estimated: ("prompt_tokens" | "completion_tokens")[];
  prompt_tokens: number;
  reasoning_tokens: number;
}

export interface User {
  /** micro-credits (1 credit = 1,000,000) */
  balance: number;
  created_at: string;
  default_model: string | null;
  display_name: string | null;
  email: string;
  email_verified?: boolean;
  id: string;
  role: "user" | "admin";
}

export type ClientFrame = AuthRequest | PingRequest | ResumeRequest | ChatListRequest | ChatGetRequest | ChatCreateRequest | ChatUpdateRequest | ChatDeleteRequest | ChatRestoreRequest | ChatPurgeRequest | MessageListRequest | MessageSendRequest | MessageStopRequest | MessageRegenerateRequest | MessageEditRequest | MessageSwitchRequest | ModelsListRequest | BalanceGetRequest | TransactionsListRequest | ProfileGetRequest | ProfileUpdateRequest | ProfileAnalyzeRequest | FileListRequest | FileDeleteRequest | PresenceGetRequest | AccountUpdateRequest | AccountPasswordRequest | AccountDeleteRequest | SessionListRequest | SessionRevokeRequest | FolderCreateRequest | FolderUpdateRequest | FolderDeleteRequest | FolderListRequest | ChatShareRequest | ChatUnshareRequest | ShareListRequest | ShareContinueRequest | ApikeyCreateRequest | ApikeyListRequest | ApikeyRevokeRequest | BillingPacksRequest | BillingCheckoutRequest | BillingOrdersRequest;

export type ServerFrame = ReplyFrame | HelloFrame | AccountUpdatedEvent | ChatCreatedEvent | ChatUpdatedEvent | ChatDeletedEvent | ChatRestoredEvent | ChatPurgedEvent | ShareCreatedEvent | ShareRevokedEvent | ApikeyCreatedEvent | ApikeyRevokedEvent | FolderCreatedEvent | FolderUpdatedEvent | FolderDeletedEvent | MessageCreatedEvent | MessageDeltaEvent | MessageDoneEvent | MessageStoppedEvent | MessageInterruptedEvent | MessageErrorEvent | ProfileUpdatedEvent | FileCreatedEvent | FileDeletedEvent | BalanceUpdatedEvent | PresenceChangedEvent | ModelsUpdatedEvent | ResyncRequiredFrame | ErrorFrame;

export type ErrorCode = WireError["code"];

/** Each request type's parameters (the client adds `type` and `id`). */
export interface Requests {
  "account.delete": Omit<AccountDeleteRequest, "type" | "id">;
  "account.password": Omit<AccountPasswordRequest, "type" | "id">;
  "account.update": Omit<AccountUpdateRequest, "type" | "id">;
  "apikey.create": Omit<ApikeyCreateRequest, "type" | "id">;
  "apikey.list": Omit<ApikeyListRequest, "type" | "id">;
  "apikey.revoke": Omit<ApikeyRevokeRequest, "type" | "id">;
  "auth": Omit<AuthRequest, "type" | "id">;
  "balance.get": Omit<BalanceGetRequest, "type" | "id">;
  "billing.checkout": Omit<BillingCheckoutRequest, "type" | "id">;
  "billing.orders": Omit<BillingOrdersRequest, "type" | "id">;
  "billing.packs": Omit<BillingPacksRequest, "type" | "id">;
  "chat.create": Omit<ChatCreateRequest, "type" | "id">;
  "chat.delete": Omit<ChatDeleteRequest, "type" | "id">;
  "chat.get": Omit<ChatGetRequest, "type" | "id">;
  "chat.list": Omit<ChatListRequest, "type" | "id">;
  "chat.purge": Omit<ChatPurgeRequest, "type" | "id">;
  "chat.restore": Omit<ChatRestoreRequest, "type" | "id">;
  "chat.share": Omit<ChatShareRequest, "type" | "id">;
  "chat.unshare": Omit<ChatUnshareRequest, "type" | "id">;
  "chat.update": Omit<ChatUpdateRequest, "type" | "id">;
  "file.delete": Omit<FileDeleteRequest, "type" | "id">;
  "file.list": Omit<FileListRequest, "type" | "id">;
  "folder.create": Omit<FolderCreateRequest, "type" | "id">;
  "folder.delete": Omit<FolderDeleteRequest, "type" | "id">;
  "folder.list": Omit<FolderListRequest, "type" | "id">;
  "folder.update": Omit<FolderUpdateRequest, "type" | "id">;
  "message.edit": Omit<MessageEditRequest, "type" | "id">;
  "message.list": Omit<MessageListRequest, "type" | "id">;
  "message.regenerate": Omit<MessageRegenerateRequest, "type" | "id">;
  "message.send": Omit<MessageSendRequest, "type" | "id">;
  "message.stop": Omit<MessageStopRequest, "type" | "id">;
  "message.switch": Omit<MessageSwitchRequest, "type" | "id">;
  "models.list": Omit<ModelsListRequest, "type" | "id">;
  "ping": Omit<PingRequest, "type" | "id">;
  "presence.get": Omit<PresenceGetRequest, "type" | "id">;
  "profile.analyze": Omit<ProfileAnalyzeRequest, "type" | "id">;
  "profile.get": Omit<ProfileGetRequest, "type" | "id">;
  "profile.update": Omit<ProfileUpdateRequest, "type" | "id">;
  "resume": Omit<ResumeRequest, "type" | "id">;
  "session.list": Omit<SessionListRequest, "type" | "id">;
  "session.revoke": Omit<SessionRevokeRequest, "type" | "id">;
  "share.continue": Omit<ShareContinueRequest, "type" | "id">;
  "share.list": Omit<ShareListRequest, "type" | "id">;
  "transactions.list": Omit<TransactionsListRequest, "type" | "id">;
}

/** Each event type's frame (every one has a `seq`). */
export interface Events {
  "account.updated": AccountUpdatedEvent;
  "apikey.created": ApikeyCreatedEvent;
  "apikey.revoked": ApikeyRevokedEvent;
  "balance.updated": BalanceUpdatedEvent;
  "chat.created": ChatCreatedEvent;
  "chat.deleted": ChatDeletedEvent;
  "chat.purged": ChatPurgedEvent;
  "chat.restored": ChatRestoredEvent;
  "chat.updated": ChatUpdatedEvent;
  "file.created": FileCreatedEvent;
  "file.deleted": FileDeletedEvent;
  "folder.created": FolderCreatedEvent;
  "folder.deleted": FolderDeletedEvent;
  "folder.updated": FolderUpdatedEvent;
  "message.created": MessageCreatedEvent;
  "message.delta": MessageDeltaEvent;
  "message.done": MessageDoneEvent;
  "message.error": MessageErrorEvent;
  "message.interrupted": MessageInterruptedEvent;
  "message.stopped": MessageStoppedEvent;
  "models.updated": ModelsUpdatedEvent;
  "presence.changed": PresenceChangedEvent;
  "profile.updated": ProfileUpdatedEvent;
  "share.created": ShareCreatedEvent;
  "share.revoked": ShareRevokedEvent;
}

export type RequestType = keyof Requests;
export type EventType = keyof Events;
export type ServerEvent = Events[EventType];

// -- the client --

export type ConnectionState = "idle" | "connecting" | "connected" | "reconnecting" | "offline";

export interface TokenRequest {
  /** true after the server refused the last token (close 4401): get a fresh one */
  expired: boolean;
  /** true when this connect resumes an earlier socket */
  reconnect: boolean;
}

export interface BackoffOptions {
  /** ms before the first reconnect (default 300) */
  initial?: number;
  /** the longest wait, ms (default 5000) */
  max?: number;
  /** growth per failed attempt (default 2) */
  factor?: number;
  /** the share of each wait taken off at random, 0–1 (default 0.5) */
  jitter?: number;
}

export interface ClientOptions {
  /** ws(s)://host/ws; in a browser, this page's origin */
  url?: string;
  /** an access token, sent as the first frame */
  token?: string;
  /** called before every connect; null: signed out; a throw: retried after a backoff */
  tokenProvider?: (request: TokenRequest) => Promise<string | null> | string | null;
  /** the WebSocket class (default: the global one) */
  WebSocket?: new (url: string) => WebSocket;
  /** ms a request waits for its reply (default 60000; 0: forever) */
  requestTimeout?: number;
  backoff?: BackoffOptions;
  /** a position kept from before, to resume from on the first connect */
  lastSeq?: number | null;
  epoch?: string | null;
  onEvent?: (event: ServerEvent) => void;
  onState?: (state: ConnectionState) => void;
  onResync?: (frame: ResyncRequiredFrame) => void;
  onLoggedOut?: (error: ChatwireError) => void;
  onHello?: (hello: HelloFrame) => void;
}

export interface RequestOptions {
  /** ms from when the frame is sent (default: the client's requestTimeout) */
  timeout?: number;
  /** wait for a socket while offline and send again after a lost one (default: when the
   * request carries a client_msg_id) */
  queue?: boolean;
}

export interface ClientListeners {
  event: ServerEvent;
  state: ConnectionState;
  hello: HelloFrame;
  resync: ResyncRequiredFrame;
  loggedout: ChatwireError;
}

export declare class ChatwireError extends Error {
  constructor(error: { code: string; message: string; [key: string]: unknown });
  /** the server's codes, or the client's own: timeout, and unavailable when not connected */
  code: ErrorCode | "timeout";
  [key: string]: unknown;
}

export declare class ChatwireClient {
  constructor(options?: ClientOptions);
  readonly url: string;
  readonly state: ConnectionState;
  readonly hello: HelloFrame | null;
  readonly ws: WebSocket | null;
  readonly lastSeq: number | null;
  readonly epoch: string | null;
  readonly lastError: WireError | null;
  /** requests waiting for a socket */
  readonly queued: number;
  /** resolves with the first hello; rejects when signed out (4401) */
  connect(): Promise<HelloFrame>;
  close(): void;
  request<T extends RequestType>(type: T, params?: Requests[T], options?: RequestOptions): Promise<any>;
  /** message.send with a client_msg_id (made if missing): queued offline, stored once */
  sendMessage(params: Requests["message.send"], options?: RequestOptions): Promise<any>;
  on<T extends EventType>(name: T, listener: (event: Events[T]) => void): () => void;
  on<K extends keyof ClientListeners>(name: K, listener: (value: ClientListeners[K]) => void): () => void;
}

export declare function backoffDelay(retry: number, options?: BackoffOptions, random?: () => number): number;
export declare function newClientMsgId(): string;
export declare const VERSION: string;
