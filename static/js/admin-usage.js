// The console's usage analytics: cost, tokens and active users per day, cost by model, the top
// spenders, and replies by provider (error rate, time to first token), for the last 7/30/90 days
// or any period. Charts are drawn by the vendored uPlot on a canvas (nothing inline: the page's
// CSP allows no inline style or script); every table beside them downloads as CSV from the
// same route (`&format=csv`), so the file is the server's figures, not the page's.
import uPlot from "/static/vendor/uplot.esm.js";
import { clear, h } from "./dom.js";
import { credits, formatNumber, t } from "./i18n.js";

const GROUPS = ["day", "model", "user", "provider"];

// uPlot's stylesheet, once, as a <link> from our origin (the CSP's style-src 'self').
function stylesheet() {
  if (document.getElementById("uplot-css")) return;
  document.head.append(h("link", { rel: "stylesheet", href: "/static/vendor/uplot.min.css", id: "uplot-css" }));
}

const isoDay = (date) => date.toISOString().slice(0, 10);
function lastDays(n) {
  const to = new Date();
  const from = new Date(to.getTime() - (n - 1) * 86_400_000);
  return { from: isoDay(from), to: isoDay(to) };
}

const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// One chart: x is days (UTC) or categories (0..n-1 labelled by `labels`).
function chart(target, { x, series, labels, bars }) {
  const stroke = [cssVar("--accent"), "#e8833a", "#1f8a4c"];
  const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--line"), width: 1 },
    ticks: { stroke: cssVar("--line"), width: 1 } };
  const width = Math.max(280, target.clientWidth || 480);
  const opts = {
    width, height: 220, legend: { show: true },
    // Half a step of room each side, so the first and last bars are whole.
    scales: { x: labels ? { time: false, range: [-0.5, Math.max(0.5, x.length - 0.5)] }
      : { time: true, range: (_, min, max) => [min - 43_200, max + 43_200] } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    axes: [labels ? { ...axis, values: (_, ticks) => ticks.map((v) => labels[v] ?? ""), splits: () => x } : axis,
      { ...axis, size: 84, values: (_, ticks) => ticks.map((v) => series[0].format(v)) }],
    series: [{ label: labels ? t("usageModel") : t("usageDay"),
      value: labels ? (_, v) => labels[v] ?? "" : (_, v) => (v == null ? "" : isoDay(new Date(v * 1000))) },
    ...series.map((s, i) => ({ label: s.label, stroke: stroke[i % 3], width: 2,
      fill: bars ? `${stroke[i % 3]}55` : undefined, value: (_, v) => (v == null ? "" : s.format(v)),
      paths: bars ? uPlot.paths.bars({ size: [0.6, 60] }) : undefined, points: { show: !bars && x.length < 40 } }))],
  };
  const plot = new uPlot(opts, [x, ...series.map((s) => s.values)], target);
  const resize = new ResizeObserver(() => {
    if (!target.isConnected) { resize.disconnect(); plot.destroy(); return; }
    if (target.clientWidth && Math.abs(target.clientWidth - plot.width) > 4) plot.setSize({ width: target.clientWidth, height: 220 });
  });
  resize.observe(target);
  return plot;
}

// A table of a report's rows, with a CSV download of the same report.
function table(report, columns, testid, query) {
  const link = h("a", { class: "button", href: `/api/v1/admin/usage?${new URLSearchParams({ ...query, group_by: report.group_by, format: "csv" })}`,
    download: `usage-${report.group_by}-${report.from}-${report.to}.csv`, "data-testid": `usage-csv-${report.group_by}` }, t("usageCsv"));
  const rows = report.rows.map((row) => h("tr", { "data-testid": `usage-row-${report.group_by}` },
    ...columns.map(([key, , format]) => h("td", { class: format === text ? "" : "num" }, format(row[key], row)))));
  return h("div", { class: "usage-table" },
    h("div", { class: "table-scroll" }, h("table", { class: "transactions admin-table", "data-testid": testid },
      h("thead", {}, h("tr", {}, ...columns.map(([, label, format]) => h("th", { class: format === text ? "" : "num" }, t(label))))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, t("usageNone")))))),
    h("footer", {}, link));
}

const text = (v) => (v === "" ? t("usageOther") : String(v ?? ""));
const num = (v) => formatNumber(v ?? 0);
const money = (v) => credits(v ?? 0);
const ms = (v) => (v == null ? "—" : `${formatNumber(v)} ${t("usageMs")}`);
const percent = (v) => `${formatNumber((v ?? 0) * 100, 1)} %`;

function card(title, ...content) {
  return h("section", { class: "usage-card" }, h("h4", {}, title), ...content);
}

function stat(label, value, testid) {
  return h("div", { class: "stat" }, h("span", { class: "muted" }, label), h("strong", { "data-testid": testid }, value));
}

// `view`: the console's body and its REST helper (`call`).
export async function usageView(view) {
  stylesheet();
  const period = h("select", { "aria-label": t("usagePeriod"), "data-testid": "usage-period" },
    [["7", "usage7"], ["30", "usage30"], ["90", "usage90"], ["custom", "usageCustom"]].map(([value, key]) =>
      h("option", { value, selected: value === "30" }, t(key))));
  const initial = lastDays(30);
  const from = h("input", { type: "date", value: initial.from, "aria-label": t("usageFrom"), "data-testid": "usage-from", hidden: true });
  const to = h("input", { type: "date", value: initial.to, "aria-label": t("usageTo"), "data-testid": "usage-to", hidden: true });
  const content = h("div", { class: "usage", "data-testid": "usage" });
  const load = async () => {
    const custom = period.value === "custom";
    from.hidden = to.hidden = !custom;
    const query = custom ? { from: from.value, to: to.value } : lastDays(Number(period.value));
    const days = (Date.parse(query.to) - Date.parse(query.from)) / 86_400_000 + 1;
    if (!(days >= 1 && days <= 400)) { view.toast(t("usageBadRange")); return; }  // the server's rule, said in the page's language
    if (!custom) { from.value = query.from; to.value = query.to; }
    const reports = Object.fromEntries(await Promise.all(GROUPS.map(async (group) =>
      [group, await view.call("GET", `/usage?${new URLSearchParams({ ...query, group_by: group })}`)])));
    render(content, reports, query);
  };
  const reload = () => load().catch((e) => view.toast(e.message));
  period.addEventListener("change", reload);
  from.addEventListener("change", reload);
  to.addEventListener("change", reload);
  clear(view.body).append(h("div", { class: "admin-filters usage-filters" }, period, from, to), content);
  await load();
}

function render(content, { day, model, user, provider }, query) {
  const x = day.rows.map((r) => Date.parse(`${r.day}T00:00:00Z`) / 1000);
  const daily = h("div", { class: "usage-chart", "data-testid": "usage-chart-day" });
  const people = h("div", { class: "usage-chart", "data-testid": "usage-chart-users" });
  const tokens = h("div", { class: "usage-chart", "data-testid": "usage-chart-tokens" });
  const models = h("div", { class: "usage-chart", "data-testid": "usage-chart-model" });
  clear(content).append(
    h("div", { class: "stats usage-stats" },
      stat(t("usageCost"), credits(day.totals.cost), "usage-total-cost"),
      stat(t("usageReplies"), num(day.totals.replies), "usage-total-replies"),
      stat(t("usageTokens"), num(day.totals.prompt_tokens + day.totals.completion_tokens), "usage-total-tokens"),
      stat(t("usageActive"), num(day.totals.active_users), "usage-total-active")),
    card(t("usageByDay"), h("div", { class: "usage-pair" }, h("div", { class: "usage-charts" }, daily, tokens, people),
      table(day, [["day", "usageDay", text], ["replies", "usageReplies", num], ["prompt_tokens", "usagePrompt", num],
        ["completion_tokens", "usageCompletion", num], ["active_users", "usageActive", num], ["cost", "usageCost", money]],
      "usage-table-day", query))),
    card(t("usageByModel"), h("div", { class: "usage-pair" }, h("div", { class: "usage-charts" }, models),
      table(model, [["model", "usageModel", text], ["replies", "usageReplies", num], ["prompt_tokens", "usagePrompt", num],
        ["completion_tokens", "usageCompletion", num], ["cost", "usageCost", money]], "usage-table-model", query))),
    card(t("usageTopUsers"), table(user, [["email", "email", text], ["replies", "usageReplies", num],
      ["cost", "usageCost", money]], "usage-table-user", query)),
    card(t("usageByProvider"), table(provider, [["provider", "usageProvider", text], ["replies", "usageReplies", num],
      ["complete", "usageComplete", num], ["stopped", "usageStopped", num], ["error", "usageError", num],
      ["interrupted", "usageInterrupted", num], ["error_rate", "usageErrorRate", percent],
      ["ttft_p50_ms", "usageTtft50", ms], ["ttft_p95_ms", "usageTtft95", ms]], "usage-table-provider", query)));
  // Drawn once in the document, so each chart knows its width.
  chart(daily, { x, bars: true, series: [{ label: t("usageCost"), values: day.rows.map((r) => r.cost / 1_000_000), format: (v) => credits(Math.round(v * 1_000_000)) }] });
  chart(tokens, { x, series: [
    { label: t("usagePrompt"), values: day.rows.map((r) => r.prompt_tokens), format: num },
    { label: t("usageCompletion"), values: day.rows.map((r) => r.completion_tokens), format: num }] });
  chart(people, { x, series: [{ label: t("usageActive"), values: day.rows.map((r) => r.active_users), format: num }] });
  const shown = model.rows.slice(0, 12);
  chart(models, { x: shown.map((_, i) => i), labels: shown.map((r) => text(r.model)), bars: true,
    series: [{ label: t("usageCost"), values: shown.map((r) => r.cost / 1_000_000), format: (v) => credits(Math.round(v * 1_000_000)) }] });
}
