// The operator's console ("Admin", for role admin only): users and the audit log, over the
// /api/v1/admin/ REST routes. The server checks the role on every call; hiding the entry from
// others is only tidiness. A user's own page is in admin-users.js.
import { ApiError } from "./api.js";
import { clear, h } from "./dom.js";
import { credits, formatDate, t } from "./i18n.js";
import { dialog } from "./panels.js";
import { userPage } from "./admin-users.js";
import { flaggedBadge, ordersList, watchFlagged } from "./admin-orders.js";
import { packsList } from "./admin-packs.js";
import { usageView } from "./admin-usage.js";

// A call to an admin route; `key` goes as Idempotency-Key (one per action: a retry or a double
// click of the same action is one deposit).
export async function adminCall(method, path, body, key) {
  const headers = body ? { "Content-Type": "application/json" } : {};
  if (key) headers["Idempotency-Key"] = key;
  const response = await fetch(`/api/v1/admin${path}`, { method, headers, credentials: "same-origin",
    body: body ? JSON.stringify(body) : undefined });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw Object.assign(new ApiError(error.code || "internal", error.message || response.statusText,
      response.status, error.field), error);
  }
  return data;
}

// The header's entry, shown only to admins (and kept in step with the user's role).
export function adminButton(ctx) {
  const button = h("button", { class: "link", "data-testid": "admin", onClick: () => openAdmin(ctx) }, t("admin"));
  const show = (user) => { button.hidden = user?.role !== "admin"; };
  show(ctx.store.state.user);
  ctx.store.on("user", show);
  watchFlagged(ctx, button, adminCall);
  return button;
}

export function openAdmin(ctx) {
  const body = h("div", { class: "admin-body" });
  const tabs = {
    users: h("button", { role: "tab", "data-testid": "admin-tab-users", onClick: () => show("users") }, t("adminUsers")),
    audit: h("button", { role: "tab", "data-testid": "admin-tab-audit", onClick: () => show("audit") }, t("adminAudit")),
    orders: h("button", { role: "tab", "data-testid": "admin-tab-orders", onClick: () => show("orders") },
      t("adminOrders"), " ", flaggedBadge("orders-alert")),
    packs: h("button", { role: "tab", "data-testid": "admin-tab-packs", onClick: () => show("packs") }, t("adminPacks")),
    usage: h("button", { role: "tab", "data-testid": "admin-tab-usage", onClick: () => show("usage") }, t("adminUsage")),
  };
  const view = { ctx, body, call: adminCall, openUser: (id) => userPage(view, id).catch(fail), back: () => show("users"), toast: ctx.toast };
  const fail = (error) => ctx.toast(error.message);
  const show = (name) => {
    for (const [key, tab] of Object.entries(tabs)) tab.setAttribute("aria-selected", String(key === name));
    ({ users: usersList, audit: auditLog, orders: ordersList, packs: packsList, usage: usageView }[name])(view).catch(fail);
  };
  const box = dialog(t("admin"), h("nav", { class: "admin-tabs", role: "tablist" }, ...Object.values(tabs)), body);
  box.classList.add("admin");
  box.dataset.testid = "admin-console";
  show("users");
}

// Newest sign-ups first (or another order), searched by email or name, a page at a time.
async function usersList(view) {
  const query = h("input", { type: "search", placeholder: t("adminSearch"), "aria-label": t("adminSearch"),
    "data-testid": "admin-search" });
  const sort = h("select", { "aria-label": t("sortCreated"), "data-testid": "admin-sort" },
    [["created", "sortCreated"], ["last_active", "sortLastActive"], ["balance", "sortBalance"],
      ["spend", "sortSpend"]].map(([value, key]) => h("option", { value }, t(key))));
  const rows = h("tbody", {});
  const more = h("button", { "data-testid": "admin-more", hidden: true }, t("loadMore"));
  let cursor = null;
  const load = async (fresh) => {
    if (fresh) { cursor = null; clear(rows); }
    const params = new URLSearchParams({ sort: sort.value });
    if (query.value.trim()) params.set("q", query.value.trim());
    if (cursor) params.set("cursor", cursor);
    const page = await adminCall("GET", `/users?${params}`);
    rows.append(...page.users.map((u) => h("tr", { class: "clickable", "data-testid": "admin-user-row",
      tabindex: 0, onClick: () => view.openUser(u.id),
      onKeydown: (e) => e.key === "Enter" && view.openUser(u.id) },
    h("td", {}, h("div", { class: "who" }, u.email), h("div", { class: "muted" }, u.display_name || "")),
    h("td", {}, h("span", { class: `badge ${u.role}` }, t(u.role === "admin" ? "roleAdmin" : "roleUser"))),
    h("td", {}, h("span", { class: `badge ${u.disabled ? "off" : "on"}` }, t(u.disabled ? "disabled" : "active"))),
    h("td", { class: "num" }, credits(u.balance)), h("td", { class: "num" }, credits(u.spend)),
    h("td", {}, u.last_active_at ? formatDate(u.last_active_at) : t("never")),
    h("td", {}, formatDate(u.created_at)))));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  let timer = null;
  query.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => load(true).catch(view.toast), 250); });
  sort.addEventListener("change", () => load(true).catch((e) => view.toast(e.message)));
  more.addEventListener("click", () => load(false).catch((e) => view.toast(e.message)));
  await load(true);
  clear(view.body).append(h("div", { class: "admin-filters" }, query, sort),
    h("div", { class: "table-scroll" }, h("table", { class: "transactions admin-table", "data-testid": "admin-users" },
      h("thead", {}, h("tr", {}, ...["email", "role", "statusCol", "balance", "spend30", "lastActive", "signedUp"]
        .map((key) => h("th", {}, t(key))))), rows)), h("footer", {}, more));
  query.focus();
}

// What changed, as a short line: "disabled: false → true", "balance: 1 → 4".
function change(entry) {
  const before = entry.before || {};
  const after = entry.after || {};
  const keys = Object.keys(after).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]) && k in before);
  const parts = keys.map((k) => `${k}: ${show(k, before[k])} → ${show(k, after[k])}`);
  if (after.note) parts.push(`“${after.note}”`);
  if (entry.action.startsWith("pack.")) parts.unshift(entry.before ? after.id : `${after.id} “${after.title}”`);
  return parts.join("; ");
}

const show = (key, value) => (value === null || value === undefined ? t("noCap")
  : ["balance", "daily_cap", "monthly_cap", "credits"].includes(key) ? credits(value) : String(value));

async function auditLog(view) {
  const action = h("select", { "aria-label": t("action"), "data-testid": "audit-action" },
    h("option", { value: "" }, t("allActions")),
    ["user.update", "user.sessions_revoke", "credits.deposit", "credits.adjustment", "order.credit",
      "order.dismiss", "pack.create", "pack.update"].map((a) =>
      h("option", { value: a }, t(`action_${a.replace(".", "_")}`))));
  const actor = h("input", { type: "search", placeholder: t("filterActor"), "aria-label": t("filterActor") });
  const rows = h("tbody", {});
  const more = h("button", { hidden: true }, t("loadMore"));
  let cursor = null;
  const load = async (fresh) => {
    if (fresh) { cursor = null; clear(rows); }
    const params = new URLSearchParams();
    if (action.value) params.set("action", action.value);
    if (actor.value.trim()) params.set("actor", actor.value.trim());
    if (cursor) params.set("cursor", cursor);
    const page = await adminCall("GET", `/audit?${params}`);
    rows.append(...page.entries.map((e) => h("tr", { "data-testid": "audit-row" },
      h("td", {}, formatDate(e.created_at)), h("td", {}, e.actor_email || e.actor_id || ""),
      h("td", {}, t(`action_${e.action.replace(".", "_")}`)),
      h("td", {}, e.target_id ? h("button", { class: "link", onClick: () => view.openUser(e.target_id) },
        e.target_email || e.target_id.slice(-8)) : ""),
      h("td", { class: "note" }, change(e)), h("td", { class: "muted" }, e.address))));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  action.addEventListener("change", () => load(true).catch((e) => view.toast(e.message)));
  actor.addEventListener("change", () => load(true).catch((e) => view.toast(e.message)));
  more.addEventListener("click", () => load(false).catch((e) => view.toast(e.message)));
  await load(true);
  clear(view.body).append(h("div", { class: "admin-filters" }, actor, action),
    h("div", { class: "table-scroll" }, h("table", { class: "transactions admin-table", "data-testid": "audit-log" },
      h("thead", {}, h("tr", {}, ...["date", "actor", "action", "target", "change", "address"]
        .map((key) => h("th", {}, t(key))))), rows)), h("footer", {}, more));
}
