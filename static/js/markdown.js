// Markdown to safe HTML: marked parses, DOMPurify sanitises the result, then code blocks get
// highlighting, a language label and a copy button.
//
// A reply streaming in is drawn by a StreamRenderer: the text is cut into blocks at blank lines
// outside code fences; a block that is finished (another began after it) is parsed, sanitised
// and drawn once and kept, and only the unfinished last block is drawn again on each delta — so
// a delta costs the same 50,000 characters into a reply as at the start. Each block is judged
// whole (a payload split across deltas is sanitised once its block is complete, and never
// before as part of a tag it has not closed: the unfinished block is sanitised every time too).
// When the reply ends it is drawn whole, exactly as `render` draws it.
import { marked } from "/static/vendor/marked.esm.js";
import DOMPurify from "/static/vendor/purify.es.mjs";
import hljs from "/static/vendor/highlight.min.js";
import { t } from "./i18n.js";

marked.setOptions({ gfm: true, breaks: true });

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {  // links open elsewhere and never reach back to this page
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});

const PURIFY = {
  FORBID_TAGS: ["style", "form", "input", "textarea", "select", "button", "iframe"],
  FORBID_ATTR: ["style"],
};

function html(text) {
  return DOMPurify.sanitize(marked.parse(text ?? ""), PURIFY);
}

export function render(container, text) {
  container.innerHTML = html(text);
  decorate(container);
}

function decorate(container) {
  for (const block of container.querySelectorAll("pre > code")) {
    const named = [...block.classList].find((c) => c.startsWith("language-"));
    if (named) block.parentElement.dataset.lang = named.slice("language-".length);
    hljs.highlightElement(block);
    const button = document.createElement("button");
    button.className = "copy-code";
    button.type = "button";
    button.textContent = t("copy");
    button.addEventListener("click", async () => {
      await navigator.clipboard?.writeText(block.textContent);
      button.textContent = t("copied");
      setTimeout(() => { button.textContent = t("copy"); }, 1500);
    });
    block.parentElement.append(button);
  }
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

export class StreamRenderer {
  constructor(container) {
    this.container = container;
    container.replaceChildren();
    this.finished = document.createElement("div");
    this.finished.className = "blocks";
    this.tail = document.createElement("div");
    this.tail.className = "blocks";
    container.append(this.finished, this.tail);
    this.done = 0;  // characters already drawn as finished blocks
    this.scanned = 0;  // where the line scan has reached (always at a line's start)
    this.fence = null;  // the open code fence's marker, while inside one
    this.boundary = 0;  // the latest blank line outside a fence: finished blocks end there
  }

  update(text) {
    this._scan(text);
    if (this.boundary > this.done) {  // blocks finished since the last delta: draw them once
      const block = document.createElement("div");
      block.innerHTML = html(text.slice(this.done, this.boundary));
      decorate(block);
      this.finished.append(...block.childNodes);
      this.done = this.boundary;
    }
    if (this.fence) {  // an open code block: shown as plain code until it closes
      const before = text.slice(this.done, this.fenceAt);
      this.tail.innerHTML = before.trim() ? html(before) : "";
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      code.textContent = text.slice(this.codeAt);
      pre.append(code);
      this.tail.append(pre);
    } else {
      this.tail.innerHTML = html(text.slice(this.done));
    }
  }

  // Reads whole lines not read yet: fence state and the latest blank line outside a fence.
  _scan(text) {
    while (true) {
      const end = text.indexOf("\n", this.scanned);
      if (end === -1) return;
      const line = text.slice(this.scanned, end);
      const fence = FENCE.exec(line);
      if (fence && !this.fence) {
        this.fence = fence[1];
        this.fenceAt = this.scanned;
        this.codeAt = end + 1;
      } else if (fence && fence[1][0] === this.fence[0] && fence[1].length >= this.fence.length
          && !line.slice(fence[0].length).trim()) {
        this.fence = null;
      } else if (!this.fence && !line.trim()) {
        this.boundary = end + 1;
      }
      this.scanned = end + 1;
    }
  }
}
