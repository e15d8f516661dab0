// Orders in the operator's console: every order (filtered by status) and the flagged ones — the
// provider reported another amount or currency than the order's, so nothing was credited — to be
// credited once or dismissed, with a note. The count of flagged orders is the console's alert: a
// badge on the header's Admin entry and on the Orders tab, refreshed every minute.
import { clear, h } from "./dom.js";
import { credits, formatDate, t } from "./i18n.js";
import { price } from "./billing.js";

const STATUSES = ["flagged", "pending", "paid", "failed", "reversed"];
const POLL_MS = 60_000;
const badges = new Set();  // every badge showing the flagged count (header entry, Orders tab)
let flaggedCount = 0;

function showCount(count) {
  flaggedCount = count;
  for (const badge of badges) {
    if (!badge.isConnected) { badges.delete(badge); continue; }  // a closed console's tab
    badge.textContent = String(count);
    badge.hidden = !count;
    badge.title = t("flaggedAlert", { count });
  }
}

// A badge element kept in step with the flagged count.
export function flaggedBadge(testid) {
  const badge = h("span", { class: "alert-badge", "data-testid": testid, hidden: !flaggedCount,
    "aria-live": "polite" }, String(flaggedCount));
  badges.add(badge);
  return badge;
}

async function refreshCount(call) {
  const page = await call("GET", "/orders?status=flagged");
  showCount(page.flagged);
}

// The header's Admin entry gets the badge; it is fetched while the user is an admin.
export function watchFlagged(ctx, button, call) {
  button.append(" ", flaggedBadge("admin-alert"));
  let timer = null;
  const follow = (user) => {
    clearInterval(timer);
    if (user?.role !== "admin") return showCount(0);
    const poll = () => !document.hidden && refreshCount(call).catch(() => {});
    poll();
    timer = setInterval(poll, POLL_MS);
  };
  follow(ctx.store.state.user);
  ctx.store.on("user", follow);
}

const money = (m) => (m ? price(m.amount, m.currency || "xxx") : "—");

function resolution(order) {
  const r = order.resolution;
  if (!r) return null;
  return h("div", { class: "muted resolution", "data-testid": "order-resolution" },
    t(r.action === "credit" ? "resolvedCredit" : "resolvedDismiss", { by: r.by, at: formatDate(r.at) }),
    r.note ? ` — “${r.note}”` : "");
}

// The form under a flagged order: a note (required), then credit the pack or dismiss.
function resolveForm(view, order, done) {
  const note = h("input", { maxlength: 500, placeholder: t("resolveNote"), "aria-label": t("resolveNote"),
    "data-testid": "resolve-note" });
  const act = (action) => async () => {
    if (!note.value.trim()) { note.focus(); return view.toast(t("resolveNoteNeeded")); }
    try {
      const answer = await view.call("POST", `/orders/${encodeURIComponent(order.id)}/resolve`,
        { action, note: note.value.trim() });
      view.toast(t(action === "credit" ? "resolvedCreditDone" : "resolvedDismissDone",
        { credits: credits(order.credits), email: order.email }));
      await done(answer.order);
    } catch (e) { view.toast(e.message); }
  };
  return h("div", { class: "resolve-form", "data-testid": "resolve-form" }, note,
    h("button", { class: "primary", "data-testid": "resolve-credit", onClick: act("credit") },
      t("resolveCredit", { credits: credits(order.credits) })),
    h("button", { "data-testid": "resolve-dismiss", onClick: act("dismiss") }, t("resolveDismiss")));
}

// A row (and, for a flagged order, its form); once resolved, both give way to the order after.
function orderRow(view, order, changed) {
  const flagged = order.status === "flagged";
  const status = h("td", {}, h("span", { class: `badge order-${order.status}` }, t(`ostatus_${order.status}`)),
    order.expected ? h("div", { class: "mismatch", "data-testid": "order-mismatch" },
      t("mismatchLine", { expected: money(order.expected), received: money(order.received) })) : null,
    resolution(order));
  const row = h("tr", { "data-testid": "admin-order-row", class: flagged ? "flagged" : "" },
    h("td", {}, formatDate(order.created_at)),
    h("td", {}, h("div", { class: "who" }, order.email), h("div", { class: "muted" }, order.pack_id)),
    h("td", {}, order.provider === "yookassa" ? "ЮKassa" : "Stripe"),
    h("td", { class: "num" }, price(order.amount, order.currency)),
    h("td", { class: "num" }, credits(order.credits)), status,
    h("td", { class: "mono", title: order.payment_id || "" }, order.payment_id || "—"));
  if (!flagged) return [row];
  const form = h("tr", { class: "resolve-row" });
  form.append(h("td", { colspan: 7 }, resolveForm(view, order, async (after) => {
    row.replaceWith(...orderRow(view, after, changed));
    form.remove();
    await changed();
  })));
  return [row, form];
}

// The Orders tab: flagged first by default (what needs the operator), any status on demand.
export async function ordersList(view) {
  const status = h("select", { "aria-label": t("statusCol"), "data-testid": "orders-status" },
    h("option", { value: "" }, t("allOrders")),
    STATUSES.map((s) => h("option", { value: s, selected: s === (flaggedCount ? "flagged" : "") }, t(`ostatus_${s}`))));
  const rows = h("tbody", {});
  const empty = h("p", { class: "muted", hidden: true, "data-testid": "orders-empty" }, t("noOrders"));
  const more = h("button", { hidden: true }, t("loadMore"));
  let cursor = null;
  const load = async (fresh) => {
    if (fresh) { cursor = null; clear(rows); }
    const params = new URLSearchParams();
    if (status.value) params.set("status", status.value);
    if (cursor) params.set("cursor", cursor);
    const page = await view.call("GET", `/orders?${params}`);
    showCount(page.flagged);
    rows.append(...page.orders.flatMap((o) => orderRow(view, o, () => refreshCount(view.call))));
    empty.hidden = rows.childElementCount > 0;
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  status.addEventListener("change", () => load(true).catch((e) => view.toast(e.message)));
  more.addEventListener("click", () => load(false).catch((e) => view.toast(e.message)));
  await load(true);
  clear(view.body).append(h("div", { class: "admin-filters" }, status),
    h("div", { class: "table-scroll" }, h("table", { class: "transactions admin-table admin-orders", "data-testid": "admin-orders" },
      h("thead", {}, h("tr", {}, ...["date", "email", "provider", "amount", "orderCredits", "statusCol", "paymentId"]
        .map((key) => h("th", {}, t(key))))), rows)), empty, h("footer", {}, more));
}
