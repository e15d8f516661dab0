// The "API keys" section of the account settings: personal keys for the OpenAI-compatible API
// (/v1). A new key (name; optional expiry, model list and monthly cap) is shown once, with a
// copy button — the server keeps only its hash; the list shows each key's prefix, limits and
// when it was last used, and revokes one (it stops working at once, everywhere).
import { clear, h } from "./dom.js";
import { credits, describe, formatDate, t } from "./i18n.js";

export async function apiKeysSection(ctx) {
  const { models } = ctx.store.state;
  const name = h("input", { maxlength: 100, placeholder: t("apiKeyName"), "aria-label": t("apiKeyName"),
    "data-testid": "apikey-name" });
  const expires = h("input", { type: "date", "aria-label": t("apiKeyExpires"), "data-testid": "apikey-expires" });
  const cap = h("input", { type: "number", min: "0.01", step: "0.01", placeholder: t("apiKeyNoCap"),
    "aria-label": t("apiKeyCap"), "data-testid": "apikey-cap" });
  const allowed = h("select", { multiple: true, size: Math.min(4, models.length), "aria-label": t("apiKeyModels"),
    "data-testid": "apikey-models" }, models.map((m) => h("option", { value: m.id }, m.name || m.id)));
  const shown = h("div", { class: "apikey-new", hidden: true, "data-testid": "apikey-shown" });
  const list = h("ul", { class: "sessions apikeys", "data-testid": "apikeys" });

  const paint = async () => {
    const { api_keys: keys } = await ctx.call("apikey.list");
    clear(list);
    if (!keys.length) list.append(h("li", { class: "note" }, t("apiKeyNone")));
    for (const key of keys) list.append(row(key));
  };
  const row = (key) => {
    const expired = key.expires_at && new Date(key.expires_at) <= new Date();
    const limits = [
      key.models ? key.models.join(", ") : t("apiKeyAllModels"),
      key.monthly_cap ? t("apiKeyCapShown", { cap: credits(key.monthly_cap) }) : null,
      key.expires_at ? t(expired ? "apiKeyExpired" : "apiKeyExpiresOn", { date: formatDate(key.expires_at) }) : null,
    ].filter(Boolean).join(" · ");
    return h("li", { "data-testid": "apikey-row" },
      h("span", { class: "agent" }, h("strong", {}, key.name), " ", h("code", {}, `${key.prefix}…`),
        h("br"), h("span", { class: "note" }, limits)),
      h("span", { class: "when", "data-testid": "apikey-used" },
        key.last_used_at ? t("apiKeyUsed", { date: formatDate(key.last_used_at) }) : t("apiKeyNeverUsed")),
      h("button", { class: "danger", "data-testid": "apikey-revoke", onClick: async () => {
        if (!confirm(t("apiKeyRevokeConfirm", { name: key.name }))) return;
        await ctx.call("apikey.revoke", { api_key_id: key.id }).catch((e) => ctx.toast(describe(e)));
        await paint();
      } }, t("apiKeyRevoke")));
  };
  const create = async () => {
    const params = { name: name.value.trim() };
    if (!params.name) { name.focus(); return; }
    if (expires.value) params.expires_at = new Date(`${expires.value}T23:59:59`).toISOString();
    if (cap.value) params.monthly_cap = Math.round(Number(cap.value) * 1_000_000);
    const picked = [...allowed.selectedOptions].map((o) => o.value);
    if (picked.length) params.models = picked;
    try {
      const { key } = await ctx.call("apikey.create", params);
      name.value = expires.value = cap.value = "";
      for (const option of allowed.options) option.selected = false;
      const field = h("input", { readonly: true, value: key, "aria-label": t("apiKeyNew"),
        "data-testid": "apikey-value", onFocus: (e) => e.target.select() });
      shown.replaceChildren(h("p", {}, h("strong", {}, t("apiKeyOnce"))),
        h("div", { class: "row" }, field, h("button", { "data-testid": "apikey-copy", onClick: async (e) => {
          await navigator.clipboard?.writeText(key).catch(() => null);
          e.target.textContent = t("copied");
        } }, t("copy"))));
      shown.hidden = false;
      field.focus();
      await paint();
    } catch (error) { ctx.toast(describe(error)); }
  };
  await paint();
  return h("section", { class: "settings", "data-testid": "apikeys-section" }, h("h3", {}, t("apiKeys")),
    h("p", { class: "note" }, t("apiKeysHint", { base: `${location.origin}/v1` })),
    shown, list,
    h("div", { class: "apikey-form" },
      h("label", {}, t("apiKeyName"), name),
      h("label", {}, t("apiKeyExpires"), expires),
      h("label", {}, t("apiKeyCap"), cap),
      h("label", {}, t("apiKeyModels"), allowed)),
    h("div", { class: "row" }, h("button", { class: "primary", "data-testid": "apikey-create", onClick: create },
      t("apiKeyCreate"))));
}
