// The account settings dialog: name and default model, a new password, and the sessions (each
// log-in, with "this device" marked; any other can be ended from here); "download my data" (a
// plain link: the cookie authenticates it) and the danger zone that deletes the account.
import { apiKeysSection } from "./apikeys.js";
import { h } from "./dom.js";
import { describe, formatDate, language, t } from "./i18n.js";
import { dialog } from "./panels.js";

export async function accountSettings(ctx) {
  const { user, models } = ctx.store.state;
  const name = h("input", { value: user.display_name || "", maxlength: 200, "data-testid": "account-name",
    "aria-label": t("displayName") });
  const model = h("select", { "data-testid": "account-model", "aria-label": t("defaultModel") },
    h("option", { value: "" }, t("serverDefault")),
    models.map((m) => h("option", { value: m.id, selected: m.id === user.default_model }, m.name || m.id)));
  const saved = h("span", { class: "saved", role: "status" });
  const saveProfile = async () => {
    try {
      await ctx.call("account.update", { display_name: name.value, default_model: model.value || null });
      saved.textContent = t("savedNote");
    } catch (error) { ctx.toast(describe(error)); }
  };
  const current = h("input", { type: "password", autocomplete: "current-password", "data-testid": "current-password",
    "aria-label": t("currentPassword"), placeholder: t("currentPassword") });
  const fresh = h("input", { type: "password", autocomplete: "new-password", minlength: 8, "data-testid": "new-password",
    "aria-label": t("newPassword"), placeholder: t("newPassword") });
  const changed = h("span", { class: "saved", role: "status", "data-testid": "password-status" });
  const changePassword = async () => {
    try {
      await ctx.call("account.password", { current_password: current.value, new_password: fresh.value });
      current.value = fresh.value = "";
      changed.textContent = t("passwordChanged");
      await paintSessions();
    } catch (error) { changed.textContent = describe(error); }
  };
  const sessions = h("ul", { class: "sessions", "data-testid": "sessions" });
  const paintSessions = async () => {
    const { sessions: rows } = await ctx.call("session.list");
    sessions.replaceChildren(...rows.map((s) => h("li", {},
      h("span", { class: "agent", title: s.user_agent || "" }, device(s.user_agent) || t("unknownDevice")),
      h("span", { class: "when" }, formatDate(s.last_used_at)),
      s.current ? h("strong", {}, t("thisDevice"))
        : h("button", { "data-testid": "end-session", onClick: async () => {
          await ctx.call("session.revoke", { session_id: s.id }).catch((e) => ctx.toast(describe(e)));
          await paintSessions();
        } }, t("endSession")))));
  };
  await paintSessions();
  const keys = await apiKeysSection(ctx);
  const box = dialog(t("accountSettings"),
    h("section", { class: "settings" },
      h("label", {}, t("displayName"), name), h("label", {}, t("defaultModel"), model),
      h("div", { class: "row" }, h("button", { class: "primary", "data-testid": "save-account",
        onClick: saveProfile }, t("save")), saved)),
    h("section", { class: "settings" }, h("h3", {}, t("changePassword")), current, fresh,
      h("div", { class: "row" }, h("button", { "data-testid": "change-password", onClick: changePassword },
        t("changePassword")), changed)),
    h("section", { class: "settings" }, h("h3", {}, t("sessions")), sessions),
    keys,
    h("section", { class: "settings" }, h("h3", {}, t("myData")),
      h("p", { class: "note" }, t("myDataHint")),
      h("div", { class: "row" }, h("a", { class: "button", href: `/api/v1/account/export?lang=${language()}`,
        download: "", "data-testid": "download-data" }, t("downloadMyData")))),
    dangerZone(ctx, () => box.close()));
  name.focus();
}

// Deleting the account: the password, then a second, explicit confirmation; on success the
// server closes every socket and the app goes back to the sign-in screen.
function dangerZone(ctx, closeDialog) {
  const password = h("input", { type: "password", autocomplete: "current-password",
    "data-testid": "delete-password", "aria-label": t("deletePassword"), placeholder: t("deletePassword") });
  const status = h("span", { class: "error", role: "alert", "data-testid": "delete-status" });
  const confirm = h("div", { class: "row confirm", hidden: true },
    h("strong", {}, t("deleteReally")),
    h("button", { class: "danger", "data-testid": "delete-confirm", onClick: async () => {
      try {
        await ctx.call("account.delete", { password: password.value });
      } catch (error) {
        confirm.hidden = true;
        status.textContent = error.field === "password" ? t("deleteWrongPassword") : describe(error);
        return;
      }
      closeDialog();
      await ctx.signedOut();
    } }, t("deleteForever")),
    h("button", { onClick: () => { confirm.hidden = true; } }, t("cancel")));
  const ask = () => {
    status.textContent = "";
    if (!password.value) { status.textContent = t("deleteNeedsPassword"); password.focus(); return; }
    confirm.hidden = false;
  };
  return h("section", { class: "settings danger-zone", "data-testid": "danger-zone" },
    h("h3", {}, t("deleteAccount")), h("p", { class: "note" }, t("deleteAccountHint")), password,
    h("div", { class: "row" }, h("button", { class: "danger", "data-testid": "delete-account", onClick: ask },
      t("deleteAccount")), status), confirm);
}

// "Chrome on Linux" from a user agent string (the whole string is the item's title).
function device(agent) {
  if (!agent) return "";
  const browser = [["Edg/", "Edge"], ["OPR/", "Opera"], ["Firefox/", "Firefox"], ["Chrome/", "Chrome"],
    ["Safari/", "Safari"], ["curl/", "curl"], ["python", "Python"]].find(([mark]) => agent.includes(mark));
  const system = [["Windows", "Windows"], ["Android", "Android"], ["iPhone", "iOS"], ["iPad", "iPadOS"],
    ["Mac OS", "macOS"], ["Linux", "Linux"]].find(([mark]) => agent.includes(mark));
  if (!browser) return agent.slice(0, 60);
  return system ? `${browser[1]} · ${system[1]}` : browser[1];
}
