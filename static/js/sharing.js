// The "Share" dialog of a chat: its live links (each a snapshot of the active branch as it was
// when made), a new one, copying one, and ending one.
import { clear, h } from "./dom.js";
import { formatDate, t } from "./i18n.js";
import { dialog } from "./panels.js";

const absolute = (share) => new URL(share.url, location.origin).href;

export async function shareDialog(ctx, chat) {
  const list = h("ul", { class: "share-links", "data-testid": "share-links" });
  const paint = async () => {
    const { shares } = await ctx.call("share.list");
    clear(list);
    const mine = shares.filter((s) => s.chat_id === chat.id);
    if (!mine.length) list.append(h("li", { class: "note" }, t("noLinks")));
    for (const share of mine) {
      const field = h("input", { readonly: true, value: absolute(share), "aria-label": t("shareLink"),
        "data-testid": "share-url", onFocus: (e) => e.target.select() });
      list.append(h("li", {},
        field,
        h("span", { class: "note" }, t("sharedOnCount", { date: formatDate(share.created_at),
          count: share.message_count })),
        h("span", { class: "row" },
          h("button", { "data-testid": "copy-link", onClick: async (e) => {
            await navigator.clipboard?.writeText(field.value).catch(() => null);
            e.target.textContent = t("copied");
          } }, t("copyLink")),
          h("button", { class: "danger", "data-testid": "stop-sharing", onClick: async () => {
            await ctx.call("chat.unshare", { share_id: share.id }).catch((e) => ctx.toast(e.message));
            await paint();
          } }, t("stopSharing")))));
    }
  };
  await paint();
  dialog(t("shareChat"),
    h("p", { class: "note" }, t("shareHint")),
    list,
    h("footer", {}, h("button", { class: "primary", "data-testid": "create-link", onClick: async () => {
      try {
        await ctx.call("chat.share", { chat_id: chat.id });
        await paint();
        list.querySelector("input")?.focus();
      } catch (error) { ctx.toast(error.message); }
    } }, t("createLink"))));
}
