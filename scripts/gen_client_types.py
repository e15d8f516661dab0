"""TypeScript declarations for chatwire-client, generated from docs/frames.schema.json.

    python scripts/gen_client_types.py          # writes clients/js/index.d.ts
    python scripts/gen_client_types.py --check  # exit 1 when the committed file is out of date

Every frame shape in the schema becomes an interface (requests `XxxRequest`, events `XxxEvent`,
rows like `Chat`, `Message`), `Requests` maps each request type to its parameters and `Events`
each event type to its frame, so `client.request("chat.create", {titel: …})` and
`client.on("message.delta", (e) => e.delta)` are checked by the compiler. The client's own API
(ChatwireClient) is written below and kept in the same file. tests/test_js_client_types.py fails
when the schema changed and this was not run again.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "docs" / "frames.schema.json"
OUTPUT = ROOT / "clients" / "js" / "index.d.ts"

SPECIAL = {"event.hello": "HelloFrame", "event.error": "ErrorFrame",
           "event.resync_required": "ResyncRequiredFrame", "error": "WireError",
           "reply": "ReplyFrame"}
NOT_EVENTS = {"event.hello", "event.error", "event.resync_required"}  # frames with no seq


def pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in text.replace(".", "_").split("_"))


def type_name(ref: str) -> str:
    """`request.chat.create` → ChatCreateRequest, `event.message.delta` → MessageDeltaEvent."""
    if ref in SPECIAL:
        return SPECIAL[ref]
    kind, _, rest = ref.partition(".")
    if kind == "request":
        return pascal(rest) + "Request"
    if kind == "event":
        return pascal(rest) + "Event"
    return pascal(ref)


def ts(schema: Any, indent: str = "") -> str:
    """The TypeScript type of one JSON Schema (the subset protocol.wire_schema writes)."""
    if schema is True or not schema or set(schema) <= {"description", "default", "title"}:
        return "unknown"
    if "$ref" in schema:
        return type_name(schema["$ref"].rsplit("/", 1)[-1])
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    if "enum" in schema:
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(dict.fromkeys(ts(s, indent) for s in schema[key]))
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(ts({**schema, "type": k}, indent) for k in kind)
    if kind == "array":
        items = ts(schema.get("items", {}), indent)
        if schema.get("minItems") is not None and schema.get("minItems") == schema.get("maxItems") \
                and schema["minItems"] <= 4:
            return "[" + ", ".join([items] * schema["minItems"]) + "]"
        return f"({items})[]" if "|" in items else f"{items}[]"
    if kind == "object" or "properties" in schema:
        return body(schema, indent)
    return {"string": "string", "integer": "number", "number": "number", "boolean": "boolean",
            "null": "null"}.get(kind, "unknown")


def body(schema: dict[str, Any], indent: str, skip: tuple[str, ...] = ()) -> str:
    props = schema.get("properties", {})
    if not props:
        return "Record<string, unknown>"
    required = set(schema.get("required", []))
    inner = indent + "  "
    lines = ["{"]
    for name in sorted(props):
        if name in skip:
            continue
        prop = props[name]
        note = prop.get("description") if isinstance(prop, dict) else None
        if note:
            lines.append(f"{inner}/** {note} */")
        key = name if name.isidentifier() else json.dumps(name)
        lines.append(f"{inner}{key}{'' if name in required else '?'}: {ts(prop, inner)};")
    lines.append(indent + "}")
    return "\n".join(lines)


def render(schema: dict[str, Any]) -> str:
    defs = schema["$defs"]
    out = [HEADER]
    for ref in sorted(defs):
        if ref in ("client_frame", "server_frame"):
            continue
        d = defs[ref]
        if d.get("description"):
            out.append(f"/** {d['description']} */")
        shape = ts(d)
        if shape.startswith("{") and not ({"anyOf", "oneOf"} & set(d)):
            out.append(f"export interface {type_name(ref)} {shape}\n")
        else:
            out.append(f"export type {type_name(ref)} = {shape};\n")
    out.append(f"export type ClientFrame = {ts(defs['client_frame'])};\n")
    out.append(f"export type ServerFrame = {ts(defs['server_frame'])};\n")
    out.append("export type ErrorCode = WireError[\"code\"];\n")
    out.append("/** Each request type's parameters (the client adds `type` and `id`). */")
    out.append("export interface Requests {")
    for ref in sorted(r for r in defs if r.startswith("request.")):
        out.append(f"  {json.dumps(ref.removeprefix('request.'))}: Omit<{type_name(ref)}, \"type\" | \"id\">;")
    out.append("}\n")
    out.append("/** Each event type's frame (every one has a `seq`). */")
    out.append("export interface Events {")
    for ref in sorted(r for r in defs if r.startswith("event.") and r not in NOT_EVENTS):
        out.append(f"  {json.dumps(ref.removeprefix('event.'))}: {type_name(ref)};")
    out.append("}\n")
    out.append("export type RequestType = keyof Requests;")
    out.append("export type EventType = keyof Events;")
    out.append("export type ServerEvent = Events[EventType];\n")
    out.append(API)
    return "\n".join(out)


HEADER = """\
// chatwire-client type declarations. GENERATED from docs/frames.schema.json by
// scripts/gen_client_types.py: do not edit by hand, run the script again.
"""

API = """\
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
"""


def main(argv: list[str]) -> int:
    text = render(json.loads(SCHEMA.read_text()))
    if "--check" in argv:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python scripts/gen_client_types.py",
                  file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
