// Dialogs: the profile editor (values with weight sliders, the other lists), profile suggestions
// from "analyze this message", and the transactions list.
import { clear, h } from "./dom.js";
import { credits, formatDate, language, t } from "./i18n.js";

// The profile's categories are the server's: every list in what it sends, in its order.
const categoriesOf = (profile) => Object.keys(profile).filter((key) => Array.isArray(profile[key]));

export function dialog(title, ...content) {
  const box = h("dialog", { class: "panel", "data-testid": "dialog" },
    h("header", {}, h("h2", {}, title),
      h("button", { class: "icon", "aria-label": t("close"), onClick: () => box.close() }, "✕")),
    ...content);
  box.addEventListener("close", () => box.remove());
  document.body.append(box);
  box.showModal();
  return box;
}

function weight(item) {
  const shown = h("output", { class: "weight" }, (item.weight ?? 0.5).toFixed(2));
  const slider = h("input", { type: "range", min: 0, max: 1, step: 0.05, value: item.weight ?? 0.5,
    "aria-label": `${t("weight")}: ${item.text}`, onInput: (e) => {
      item.weight = Number(e.target.value);
      shown.textContent = item.weight.toFixed(2);
    } });
  return [slider, shown];
}

export async function profileEditor(ctx) {
  const { profile } = await ctx.call("profile.get");
  const categories = categoriesOf(profile);
  const draft = Object.fromEntries(categories.map((c) => [c, profile[c].map((i) => ({ ...i }))]));
  const sections = h("div", { class: "profile" });
  const paint = () => {
    clear(sections);
    for (const category of categories) {
      const rows = draft[category].map((item, index) => h("li", {},
        h("span", { class: "item-text" }, item.text),
        ...(category === "values" ? weight(item) : []),
        h("button", { class: "icon", "aria-label": t("remove"), onClick: () => { draft[category].splice(index, 1); paint(); } }, "✕")));
      const field = h("input", { placeholder: t("newItem"), "aria-label": `${t(category)}: ${t("newItem")}`,
        "data-testid": `add-${category}` });
      const add = () => {
        const text = field.value.trim();
        if (text) draft[category].push({ text, weight: category === "values" ? 0.5 : null, note: null });
        paint();
      };
      field.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); add(); } });
      sections.append(h("section", {}, h("h3", {}, t(category)), h("ul", {}, rows),
        h("div", { class: "add" }, field, h("button", { onClick: add }, t("addItem")))));
    }
  };
  paint();
  const box = dialog(t("profile"), sections, h("footer", {},
    h("button", { class: "primary", "data-testid": "save-profile", onClick: async () => {
      try {
        await ctx.call("profile.update", draft);
        box.close();
      } catch (error) { ctx.toast(error.message); }
    } }, t("save"))));
}

export async function analyze(ctx, text) {
  const result = await ctx.call("profile.analyze", { text });
  const found = categoriesOf(result.suggestions).filter((c) => result.suggestions[c].length);
  const list = found.length
    ? h("ul", { class: "suggestions" }, found.flatMap((c) => result.suggestions[c].map((i) =>
      h("li", {}, h("strong", {}, `${t(c)}: `), i.text))))
    : h("p", {}, t("nothingFound"));
  const box = dialog(t("suggestions"), list, found.length ? h("footer", {},
    h("button", { class: "primary", onClick: async () => {
      await ctx.call("profile.analyze", { text, apply: true });
      box.close();
    } }, t("applyAll"))) : null);
}

// The ledger, newest first, a page at a time: kinds in the reader's language, notes shown.
export async function transactions(ctx) {
  const body = h("tbody", {});
  const more = h("button", { "data-testid": "more-transactions", hidden: true }, t("loadMore"));
  let cursor = null;
  const page = async () => {
    const { transactions: rows, next_cursor: next } = await ctx.call("transactions.list",
      { limit: 100, ...(cursor ? { cursor } : {}) });
    body.append(...rows.map((r) => h("tr", {}, h("td", {}, formatDate(r.created_at)),
      h("td", {}, t(`kind_${r.kind}`)), h("td", { class: "note" }, r.note || ""),
      h("td", { class: r.amount < 0 ? "negative" : "positive" }, credits(r.amount)),
      h("td", {}, credits(r.balance_after)))));
    cursor = next;
    more.hidden = !next;
  };
  more.addEventListener("click", () => page().catch((error) => ctx.toast(error.message)));
  await page();
  return dialog(t("transactions"), await capsLine(ctx), h("div", { class: "table-scroll" }, h("table", { class: "transactions" },
    h("thead", {}, h("tr", {}, h("th", {}, t("date")), h("th", {}, t("kind")), h("th", {}, t("note")),
      h("th", {}, t("amount")), h("th", {}, t("balance")))), body)), h("footer", {}, more));
}

// The user's spend caps and what is left of each (nothing when none is set).
async function capsLine(ctx) {
  const { caps } = await ctx.call("balance.get");
  const shown = [["daily", "capDaily"], ["monthly", "capMonthly"]].filter(([name]) => caps?.[name]);
  if (!shown.length) return null;
  return h("ul", { class: "caps", "data-testid": "caps" }, shown.map(([name, label]) => h("li", {},
    t("capLine", { name: t(label), left: credits(caps[name].left), cap: credits(caps[name].cap),
      resets: formatDate(caps[name].resets_at) }))));
}

export function shortcuts() {
  const mod = /Mac|iPhone|iPad/.test(navigator.platform) ? "⌘" : "Ctrl";
  const keys = (...k) => h("td", {}, ...k.map((key) => h("kbd", {}, key)));
  dialog(t("shortcuts"), h("table", { class: "shortcuts", "data-testid": "shortcuts" }, h("tbody", {},
    h("tr", {}, keys(mod, "K"), h("td", {}, t("shortcutSearch"))),
    h("tr", {}, keys(mod, "Shift", "O"), h("td", {}, t("shortcutNew"))),
    h("tr", {}, keys("Esc"), h("td", {}, t("shortcutStop"))),
    h("tr", {}, keys("↑"), h("td", {}, t("shortcutEditLast"))),
    h("tr", {}, keys("?"), h("td", {}, t("shortcutHelp"))))));
}

// A chat's own settings: its model, its system prompt and whether the profile is used. A new
// chat not saved yet keeps them until its first message creates it. `apply(saved)` hands the
// saved values back to the conversation (with the updated chat, for a saved one).
export function chatSettings(ctx, { chat, model, personalize, systemPrompt }, apply) {
  const models = h("select", { "data-testid": "settings-model", "aria-label": t("model") },
    ctx.store.state.models.map((m) => h("option", { value: m.id, selected: m.id === model }, m.name || m.id)));
  const prompt = h("textarea", { rows: 6, class: "system-prompt", "data-testid": "settings-system-prompt",
    "aria-label": t("systemPrompt"), placeholder: t("systemPromptHint"), maxlength: 20000 });
  prompt.value = systemPrompt || "";
  const personal = h("input", { type: "checkbox", "data-testid": "settings-personalize" });
  personal.checked = personalize;
  const exportLink = (format, label) => h("a", { class: "link", download: "", "data-testid": `export-${format}`,
    href: `/api/v1/chats/${encodeURIComponent(chat.id)}/export?format=${format}&lang=${language()}` }, label);
  const box = dialog(t("chatSettings"),
    h("div", { class: "settings" },
      h("label", {}, t("model"), models),
      h("label", {}, t("systemPrompt"), prompt),
      h("label", { class: "personal" }, personal, t("personalize")),
      chat ? h("p", { class: "export" }, `${t("export")}: `, exportLink("md", "Markdown"), " · ",
        exportLink("json", "JSON")) : null),
    h("footer", {}, h("button", { class: "primary", "data-testid": "save-settings", onClick: async () => {
      const changes = { model: models.value || null, system_prompt: prompt.value.trim() || null,
        personalize: personal.checked };
      try {
        const saved = chat ? await ctx.call("chat.update", { chat_id: chat.id, ...changes }) : null;
        apply({ ...changes, chat: saved });
        box.close();
      } catch (error) { ctx.toast(error.message); }
    } }, t("save"))));
  prompt.focus();
}
