// Credit packs in the operator's console: what users can buy (title, price, currency, credits),
// changed in place or added, on sale or not. The server validates and audit-logs every change and
// tells every instance; an order already made keeps the price it was made at. Prices are typed in
// the currency's major unit (5.00) and sent in its minor unit (500); credits as credits (2.5).
import { clear, h } from "./dom.js";
import { t } from "./i18n.js";
import { price } from "./billing.js";

const MICRO = 1_000_000;
const digits = (currency) => {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase() })
      .resolvedOptions().maximumFractionDigits;
  } catch { return 2; }
};
const major = (minor, currency) => (minor / 10 ** digits(currency)).toFixed(digits(currency));

// The typed fields as the API takes them, or an error message for the first bad one.
function read(fields) {
  const currency = fields.currency.value;
  const minor = Math.round(Number(fields.price.value) * 10 ** digits(currency));
  const micro = Math.round(Number(fields.credits.value) * MICRO);
  if (!(minor > 0)) { fields.price.focus(); return { error: t("packPriceInvalid") }; }
  if (!(micro > 0)) { fields.credits.focus(); return { error: t("packCreditsInvalid") }; }
  return { body: { title: fields.title.value.trim() || undefined, price: minor, currency, credits: micro,
    enabled: fields.enabled.checked } };
}

function inputs(pack, currencies) {
  const currency = pack?.currency || (currencies.includes("usd") ? "usd" : currencies[0]) || "usd";
  const options = [...new Set([...currencies, currency])];
  return {
    title: h("input", { value: pack?.title || "", maxlength: 100, placeholder: t("packTitleAuto"), "aria-label": t("packTitle"), "data-testid": "pack-title" }),
    price: h("input", { type: "number", min: 0, step: "any", value: pack ? major(pack.price, currency) : "", class: "num-input", "aria-label": t("packPrice"), "data-testid": "pack-price" }),
    currency: h("select", { "aria-label": t("packCurrency"), "data-testid": "pack-currency" },
      options.map((c) => h("option", { value: c, selected: c === currency }, c.toUpperCase()))),
    credits: h("input", { type: "number", min: 0, step: "any", value: pack ? pack.credits / MICRO : "", class: "num-input", "aria-label": t("orderCredits"), "data-testid": "pack-credits" }),
    enabled: h("input", { type: "checkbox", checked: pack ? pack.enabled : true, "aria-label": t("packOnSale"), "data-testid": "pack-enabled" }),
  };
}

function packRow(view, pack, currencies, reload) {
  const fields = inputs(pack, currencies);
  const save = async () => {
    const { body, error } = read(fields);
    if (error) return view.toast(error);
    if (!body.title) return view.toast(t("packTitleNeeded"));
    try {
      const { pack: after } = await view.call("PATCH", `/packs/${encodeURIComponent(pack.id)}`, body);
      view.toast(t("packSaved", { title: after.title, price: price(after.price, after.currency) }));
      await reload();
    } catch (e) { view.toast(e.message); }
  };
  return h("tr", { "data-testid": "admin-pack-row", "data-pack": pack.id, class: pack.enabled ? "" : "off" },
    h("td", { class: "mono" }, pack.id, pack.sellable ? null
      : h("div", { class: "muted warn", "data-testid": "pack-unsold" }, t("packNoProvider", { currency: pack.currency.toUpperCase() }))),
    h("td", {}, fields.title), h("td", { class: "num" }, fields.price), h("td", {}, fields.currency),
    h("td", { class: "num" }, fields.credits), h("td", {}, h("label", { class: "switch" }, fields.enabled, t("packOnSale"))),
    h("td", {}, h("button", { "data-testid": "pack-save", onClick: save }, t("packSave"))));
}

function newPackRow(view, currencies, reload) {
  const id = h("input", { maxlength: 64, placeholder: t("packId"), "aria-label": t("packId"), "data-testid": "pack-id" });
  const fields = inputs(null, currencies);
  const add = async () => {
    if (!id.value.trim()) { id.focus(); return view.toast(t("packIdNeeded")); }
    const { body, error } = read(fields);
    if (error) return view.toast(error);
    try {
      const { pack } = await view.call("POST", "/packs", { id: id.value.trim(), ...body });
      view.toast(t("packAdded", { title: pack.title }));
      await reload();
    } catch (e) { view.toast(e.message); }
  };
  return h("tr", { class: "new-pack", "data-testid": "pack-new" }, h("td", {}, id), h("td", {}, fields.title),
    h("td", { class: "num" }, fields.price), h("td", {}, fields.currency), h("td", { class: "num" }, fields.credits),
    h("td", {}, h("label", { class: "switch" }, fields.enabled, t("packOnSale"))),
    h("td", {}, h("button", { class: "primary", "data-testid": "pack-add", onClick: add }, t("packAdd"))));
}

// The Packs tab.
export async function packsList(view) {
  const load = async () => {
    const { packs, currencies } = await view.call("GET", "/packs");
    const rows = packs.map((p) => packRow(view, p, currencies, load));
    clear(view.body).append(
      h("p", { class: "muted" }, currencies.length ? t("packsHint") : t("packsNoProvider")),
      h("div", { class: "table-scroll" }, h("table", { class: "transactions admin-table admin-packs", "data-testid": "admin-packs" },
        h("thead", {}, h("tr", {}, ...["packId", "packTitle", "packPrice", "packCurrency", "orderCredits", "statusCol", ""]
          .map((key) => h("th", {}, key ? t(key) : "")))),
        h("tbody", {}, ...rows, newPackRow(view, currencies, load)))));
  };
  await load();
}
