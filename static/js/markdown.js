// Markdown to safe HTML: marked parses the whole text so far, DOMPurify sanitises the result (so a
// payload split across deltas is judged whole), then code blocks get highlighting and a copy button.
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

export function render(container, text) {
  const html = DOMPurify.sanitize(marked.parse(text ?? ""), {
    FORBID_TAGS: ["style", "form", "input", "textarea", "select", "button", "iframe"],
    FORBID_ATTR: ["style"],
  });
  container.innerHTML = html;
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
