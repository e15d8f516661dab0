// The parts of a reply's footer and the empty chat's starting points: the model's name and a
// readable "tokens · cost" line, copying a whole reply (as markdown or as plain text), and the
// suggestion cards a new chat opens with.
import { h } from "./dom.js";
import { credits, formatNumber, t } from "./i18n.js";

// "GPT-4o mini · 1,200 + 305 tokens · 1,000 from cache · 0.000288 credits", once it has ended.
export function replyMeta(m, modelNames) {
  const parts = [modelNames?.get(m.model) || m.model].filter(Boolean);
  // An imported reply has no usage here: it shows its model alone, not "0 + 0 tokens".
  const imported = m.status === "complete" && !m.prompt_tokens && !m.completion_tokens && !m.cost;
  if (m.status !== "streaming" && !imported) {
    parts.push(t("tokens", { prompt: formatNumber(m.prompt_tokens), completion: formatNumber(m.completion_tokens) }),
      ...usageParts(m), t("cost", { cost: credits(m.cost) }));
    if (m.status !== "complete") parts.push(t(m.status));
  }
  return parts.join(" · ");
}

// The parts of a reply's usage the vendor priced apart, when there are any: cache reads and
// writes (parts of the prompt) and thinking (part of the completion).
function usageParts(m) {
  const parts = [["cached_tokens", "cachedTokens"], ["cache_write_tokens", "cacheWrites"],
    ["reasoning_tokens", "reasoningTokens"]];
  return parts.filter(([field]) => m[field] > 0)
    .map(([field, key]) => t(key, { count: formatNumber(m[field]) }));
}

export function copyActions(m, body) {
  const button = (label, testid, text) => {
    const el = h("button", { class: "link", "data-testid": testid, onClick: async () => {
      await navigator.clipboard?.writeText(text());
      el.textContent = t("copied");
      setTimeout(() => { el.textContent = label; }, 1500);
    } }, label);
    return el;
  };
  return [button(t("copyMarkdown"), "copy-markdown", () => m.content),
    button(t("copyText"), "copy-text", () => plainText(body))];
}

// What the reader sees, without the code blocks' own copy buttons.
function plainText(body) {
  const copy = body.cloneNode(true);
  for (const b of copy.querySelectorAll(".copy-code")) b.remove();
  return copy.innerText ?? copy.textContent;
}

export function suggestions(start) {
  const cards = ["suggestPlan", "suggestExplain", "suggestTranslate", "suggestCode"].map((key) =>
    h("button", { class: "suggestion", "data-testid": "suggestion", onClick: () => start(t(`${key}Text`)) },
      h("strong", {}, t(key)), h("span", {}, t(`${key}Text`))));
  return h("div", { class: "empty-state" }, h("p", { class: "hint" }, t("startChatting")),
    h("div", { class: "suggestions-grid" }, cards));
}
