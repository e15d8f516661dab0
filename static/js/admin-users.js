// One user in the operator's console: role, status, balance, caps, a deposit or an adjustment,
// sessions and the ledger. Each deposit form carries its own Idempotency-Key, renewed only once
// the deposit is recorded: a double click, or a retry after a lost answer, is one deposit.
import { clear, h } from "./dom.js";
import { credits, formatDate, t } from "./i18n.js";

// "2.5" or "2,5" credits → micro-credits, exactly (no floats); null if it is no amount.
export function toMicro(text) {
  const match = /^\s*(-?)(\d{1,10})(?:[.,](\d{1,6}))?\s*$/.exec(text);
  if (!match) return null;
  const micro = Number(match[2]) * 1_000_000 + Number((match[3] || "").padEnd(6, "0"));
  return match[1] ? -micro : micro;
}

const capText = (micro) => (micro === null || micro === undefined ? "" : String(micro / 1_000_000));
const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);

function stat(label, value, testid) {
  return h("div", { class: "stat" }, h("span", { class: "muted" }, label),
    h("strong", { "data-testid": testid }, value));
}

// `view`: the console's body, `call` (its REST helper), `back`, `toast`.
export async function userPage(view, id) {
  const adminCall = view.call;
  const page = await adminCall("GET", `/users/${encodeURIComponent(id)}`);
  const { user, account, usage } = page;
  const reload = () => userPage(view, id).catch((e) => view.toast(e.message));
  const act = (fn, done) => async () => {
    try { await fn(); if (done) view.toast(done); await reload(); } catch (e) { view.toast(e.message); }
  };

  const role = h("select", { "aria-label": t("role"), "data-testid": "admin-role" },
    h("option", { value: "user", selected: user.role === "user" }, t("roleUser")),
    h("option", { value: "admin", selected: user.role === "admin" }, t("roleAdmin")));
  role.addEventListener("change", act(() => adminCall("PATCH", `/users/${id}`, { role: role.value }), t("roleSaved")));
  const status = h("button", { class: user.disabled ? "primary" : "danger", "data-testid": "admin-toggle-disabled",
    onClick: async () => {
      if (!user.disabled && !confirm(t("confirmDisable", { email: user.email }))) return;
      await act(() => adminCall("PATCH", `/users/${id}`, { disabled: !user.disabled }))();
    } }, t(user.disabled ? "enableAccount" : "disableAccount"));

  const daily = h("input", { inputmode: "decimal", placeholder: t("noCap"), value: capText(user.daily_cap),
    "aria-label": t("dailyCap"), "data-testid": "admin-daily-cap" });
  const monthly = h("input", { inputmode: "decimal", placeholder: t("noCap"), value: capText(user.monthly_cap),
    "aria-label": t("monthlyCap"), "data-testid": "admin-monthly-cap" });
  const saveCaps = h("button", { "data-testid": "admin-save-caps", onClick: () => {
    const caps = {};
    for (const [name, field] of [["daily_cap", daily], ["monthly_cap", monthly]]) {
      const text = field.value.trim();  // empty: no cap
      const micro = text ? toMicro(text) : null;
      if (text && (micro === null || micro < 0)) return view.toast(t("amountInvalid"));
      caps[name] = micro;
    }
    act(() => adminCall("PATCH", `/users/${id}`, caps), t("capsSaved"))();
  } }, t("saveCaps"));

  // The deposit form: its key lives as long as the form's current action.
  let key = newKey();
  const shown = new Set();  // keys whose deposit was already reported
  const kind = h("select", { "aria-label": t("depositKind"), "data-testid": "admin-deposit-kind" },
    h("option", { value: "deposit" }, t("kind_deposit")), h("option", { value: "adjustment" }, t("kind_adjustment")));
  const amount = h("input", { inputmode: "decimal", placeholder: "10", "aria-label": t("creditsAmount"),
    "data-testid": "admin-deposit-amount" });
  const note = h("input", { maxlength: 500, placeholder: t("noteRequired"), "aria-label": t("noteRequired"),
    "data-testid": "admin-deposit-note" });
  for (const field of [kind, amount, note]) field.addEventListener("input", () => { key = newKey(); });
  const apply = h("button", { class: "primary", "data-testid": "admin-deposit", onClick: async () => {
    const micro = toMicro(amount.value);
    if (micro === null || micro === 0) return view.toast(t("amountInvalid"));
    if (kind.value === "adjustment" && !note.value.trim()) return view.toast(t("noteNeeded"));
    try {
      const sent = key;
      const result = await adminCall("POST", `/users/${id}/deposits`,
        { amount: micro, kind: kind.value, note: note.value.trim() || null }, sent);
      if (shown.has(sent)) return;  // a second click of the same action: already shown
      shown.add(sent);
      if (key === sent) key = newKey();
      view.toast(t("depositDone", { amount: credits(result.transaction.amount), email: user.email }));
      await reload();
    } catch (e) { view.toast(e.message); }
  } }, t("depositDo"));

  const sessions = page.sessions.length
    ? h("table", { class: "transactions", "data-testid": "admin-sessions" },
      h("thead", {}, h("tr", {}, h("th", {}, t("started")), h("th", {}, t("lastUsed")), h("th", {}, t("device")))),
      h("tbody", {}, page.sessions.map((s) => h("tr", {}, h("td", {}, formatDate(s.created_at)),
        h("td", {}, formatDate(s.last_used_at)), h("td", { class: "note" }, s.user_agent || "")))))
    : h("p", { class: "muted" }, t("noSessions"));
  const endAll = h("button", { "data-testid": "admin-end-sessions", disabled: !page.sessions.length,
    onClick: act(() => adminCall("DELETE", `/users/${id}/sessions`)) }, t("endAllSessions"));

  const ledger = h("table", { class: "transactions", "data-testid": "admin-ledger" },
    h("thead", {}, h("tr", {}, ...["date", "kind", "note", "amount", "balance"].map((k) => h("th", {}, t(k))))),
    h("tbody", {}, page.transactions.transactions.map((r) => h("tr", {},
      h("td", {}, formatDate(r.created_at)), h("td", {}, t(`kind_${r.kind}`)), h("td", { class: "note" }, r.note || ""),
      h("td", { class: r.amount < 0 ? "negative" : "positive" }, credits(r.amount)),
      h("td", {}, credits(r.balance_after))))));

  clear(view.body).append(h("div", { class: "admin-user", "data-testid": "admin-user" },
    h("div", { class: "admin-user-head" },
      h("button", { class: "link", "data-testid": "admin-back", onClick: view.back }, t("backToUsers")),
      h("h3", {}, user.email, " ", h("span", { class: `badge ${user.disabled ? "off" : "on"}`, "data-testid": "admin-status" },
        t(user.disabled ? "disabled" : "active"))),
      h("p", { class: "muted" }, user.display_name || "", " · ", t("signedUp"), " ", formatDate(user.created_at))),
    h("div", { class: "stats" },
      stat(t("balance"), credits(account.balance), "admin-balance"),
      stat(t("spendToday"), credits(usage.spend_today)), stat(t("spend30"), credits(usage.spend_30d)),
      stat(t("replies30"), String(usage.replies_30d))),
    h("section", {}, h("h4", {}, t("role")), h("div", { class: "row" }, role, status)),
    h("section", {}, h("h4", {}, t("depositTitle")), h("div", { class: "row" }, kind, amount, note, apply)),
    h("section", {}, h("h4", {}, t("caps")), h("div", { class: "row" },
      h("label", {}, t("dailyCap"), daily), h("label", {}, t("monthlyCap"), monthly), saveCaps)),
    h("section", {}, h("h4", {}, t("sessions")), sessions, h("div", { class: "row" }, endAll)),
    h("section", {}, h("h4", {}, t("ledger")), ledger)));
}
