// Topping up: the packs a user can buy, the provider's hosted checkout, the return page that
// waits for the webhook's `balance.updated`, and the user's orders in the transactions dialog.
// Nothing here is shown unless the server sells packs through at least one provider.
import { h } from "./dom.js";
import { credits, formatDate, language, t } from "./i18n.js";
import { dialog } from "./panels.js";

const PROVIDER_NAMES = { stripe: "Stripe", yookassa: "ЮKassa" };

// A price in minor units (cents, kopecks) as people read it, in their language.
export function price(minor, currency) {
  const format = new Intl.NumberFormat(language(), { style: "currency", currency: currency.toUpperCase() });
  return format.format(minor / 10 ** format.resolvedOptions().maximumFractionDigits);
}

let offer = null;  // the last billing.packs answer: {packs, providers}

// The header's "Top up" button: hidden until the server says it sells something.
export function topUpButton(ctx) {
  const button = h("button", { class: "topup", "data-testid": "topup", hidden: true,
    onClick: () => topUp(ctx).catch((error) => ctx.toast(error.message)) }, t("topUp"));
  ctx.call("billing.packs").then((answer) => {
    offer = answer;
    button.hidden = !answer.packs.length;
  }).catch(() => { button.hidden = true; });
  return button;
}

async function checkout(ctx, pack, provider, button) {
  button.disabled = true;
  try {
    const { url } = await ctx.call("billing.checkout", { pack_id: pack.id, provider });
    location.assign(url);  // the provider's hosted page; it sends the user back to /billing/return
  } catch (error) {
    button.disabled = false;
    ctx.toast(error.code === "provider_unavailable" ? t("providerDown") : error.message);
  }
}

export async function topUp(ctx) {
  offer = await ctx.call("billing.packs");  // afresh: an admin may have changed the packs
  const several = offer.providers.length > 1;
  const rows = offer.packs.map((pack) => h("li", { class: "pack", "data-testid": `pack-${pack.id}` },
    h("div", { class: "pack-what" }, h("strong", {}, pack.title),
      h("span", { class: "muted" }, t("packCredits", { credits: credits(pack.credits) }))),
    h("span", { class: "pack-price" }, price(pack.price, pack.currency)),
    h("span", { class: "pack-buy" }, ...pack.providers.map((provider) => {
      const button = h("button", { class: "primary", "data-testid": `buy-${pack.id}-${provider}` },
        several ? t("payWith", { provider: PROVIDER_NAMES[provider] || provider }) : t("buy"));
      button.addEventListener("click", () => checkout(ctx, pack, provider, button));
      return button;
    }))));
  return dialog(t("topUpTitle"), h("p", { class: "muted" }, t("topUpHint")),
    h("ul", { class: "packs" }, ...rows));
}

function orderRow(order) {
  return h("tr", { "data-testid": "order" }, h("td", {}, formatDate(order.created_at)),
    h("td", {}, PROVIDER_NAMES[order.provider] || order.provider),
    h("td", {}, price(order.amount, order.currency)), h("td", {}, credits(order.credits)),
    h("td", { class: `order-${order.status}` }, t(`order_${order.status}`),
      order.receipt_url ? h("a", { href: order.receipt_url, target: "_blank", rel: "noopener" },
        ` · ${t("receipt")}`) : ""));
}

// The transactions dialog gains a "Top up" button and the user's orders (when billing is on).
export async function billingInTransactions(ctx, box) {
  offer = offer || await ctx.call("billing.packs").catch(() => null);
  if (!offer?.packs.length || !box) return;
  const { orders } = await ctx.call("billing.orders", { limit: 20 });
  const section = h("section", { class: "orders", "data-testid": "orders" },
    h("div", { class: "orders-head" }, h("h3", {}, t("orders")),
      h("button", { class: "primary", "data-testid": "topup-dialog",
        onClick: () => { box.close(); topUp(ctx).catch((error) => ctx.toast(error.message)); } },
      t("topUp"))),
    orders.length ? h("div", { class: "table-scroll" }, h("table", { class: "transactions" },
      h("thead", {}, h("tr", {}, h("th", {}, t("date")), h("th", {}, t("provider")),
        h("th", {}, t("paid")), h("th", {}, t("creditsWord")), h("th", {}, t("status")))),
      h("tbody", {}, ...orders.map(orderRow)))) : h("p", { class: "muted" }, t("noOrders")));
  box.querySelector("footer")?.before(section);
}

// `/billing/return?order=…`: "payment pending" until the webhook's balance.updated arrives (the
// return itself credits nothing), then "credited". The address goes back to / afterwards.
export async function returnPage(ctx) {
  const params = new URLSearchParams(location.search);
  const orderId = params.get("order");
  history.replaceState(null, "", "/");
  if (!orderId) return;
  const text = h("p", { "data-testid": "payment-state" });
  const box = dialog(t("paymentTitle"), text);
  const show = (status) => {
    box.dataset.status = status;
    text.className = `payment-state order-${status}`;
    text.textContent = params.get("cancelled") && status === "pending" ? t("paymentCancelled")
      : t(`payment_${status}`);
  };
  const check = async () => {
    const [order] = (await ctx.call("billing.orders", { order_id: orderId })).orders;
    show(order.status);
    return order.status !== "pending";
  };
  show("pending");
  if (await check().catch(() => false)) return;
  const off = ctx.store.on("account", () => check().then((done) => done && off?.()).catch(() => {}));
  box.addEventListener("close", () => off?.());
}

export function resetOffer() { offer = null; }
