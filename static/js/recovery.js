// Password reset by mail and email verification: the "Forgot password?" form, the "choose a new
// password" form a reset link opens, the verification link's landing, and the "verify your email"
// banner. Links carry their token in the URL fragment (#reset=…, #verify=…): it never reaches a
// server log or a Referer, and it is wiped from the address bar as soon as it is read.
import * as api from "./api.js";
import { clear, h } from "./dom.js";
import { language, t } from "./i18n.js";

// The link this page was opened with, if any: { kind: "reset" | "verify", token }.
export function mailedLink() {
  const match = /^#(reset|verify)=([A-Za-z0-9_-]{16,128})$/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return { kind: match[1], token: match[2] };
}

function authCard(app, title, ...children) {
  const card = h("form", { class: "auth", "data-testid": "auth" },
    h("h1", {}, t("appName")), h("h2", { class: "auth-title" }, title), ...children);
  clear(app.root).append(card);
  return card;
}

function linkError(err) {
  return err.code === "bad_request" && err.field !== "password" ? t("resetLinkInvalid") : err.message;
}

// "Forgot password?": the email, then "check your mail" (the same whether or not it has an account).
export function forgotPassword(app) {
  const error = h("p", { class: "error", role: "alert" });
  const email = h("input", { type: "email", required: true, autocomplete: "email", placeholder: t("email"),
    "aria-label": t("email"), "data-testid": "reset-email" });
  const submit = h("button", { class: "primary", type: "submit", "data-testid": "reset-send" }, t("resetSend"));
  const back = h("button", { type: "button", class: "link", "data-testid": "back-to-login",
    onClick: () => app.showAuth("login") }, t("backToLogin"));
  const form = authCard(app, t("forgotTitle"), h("p", { class: "auth-hint" }, t("forgotHint")),
    email, error, submit, back);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      await api.passwordReset(email.value, language());
      clear(form).append(h("h1", {}, t("appName")), h("h2", { class: "auth-title" }, t("checkMailTitle")),
        h("p", { class: "auth-hint", role: "status", "data-testid": "check-mail" },
          t("checkMail", { email: email.value.trim() })), back);
    } catch (err) {
      error.textContent = err.code === "rate_limited" ? t("tooManyMails") : err.message;
      submit.disabled = false;
    }
  });
  email.focus();
}

// The reset link's form: a new password (twice), then straight into the app with it.
export function chooseNewPassword(app, token) {
  const error = h("p", { class: "error", role: "alert" });
  const attrs = { type: "password", required: true, minlength: 8, autocomplete: "new-password" };
  const password = h("input", { ...attrs, placeholder: t("newPassword"), "aria-label": t("newPassword"),
    "data-testid": "new-password" });
  const again = h("input", { ...attrs, placeholder: t("repeatPassword"), "aria-label": t("repeatPassword"),
    "data-testid": "repeat-password" });
  const submit = h("button", { class: "primary", type: "submit", "data-testid": "reset-confirm" }, t("setPassword"));
  const form = authCard(app, t("chooseTitle"), password, again, error, submit,
    h("button", { type: "button", class: "link", onClick: () => app.showAuth("login") }, t("backToLogin")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (password.value !== again.value) { error.textContent = t("passwordsDiffer"); return; }
    submit.disabled = true;
    try {
      const { email } = await api.confirmPasswordReset(token, password.value);
      const body = await api.login(email, password.value);
      app.store.set({ user: body.user });
      await app.showMain();
      app.toast(t("passwordReset"));
    } catch (err) {
      error.textContent = linkError(err);
      submit.disabled = false;
    }
  });
  password.focus();
}

// The verification link: confirm, then go on into the app (or to the login form, signed out).
export async function verifyFromLink(token) {
  try {
    await api.verifyEmail(token);
    return t("emailVerified");
  } catch (err) {
    return linkError(err);
  }
}

// "Verify your email": shown while the server requires it and this account has not; "Send again".
export function verificationBanner(ctx, required) {
  const note = h("span", {}, t("verifyBanner"));
  const again = h("button", { class: "link", "data-testid": "verify-resend", onClick: async () => {
    again.disabled = true;
    try {
      const answer = await api.resendVerification(language());
      ctx.toast(answer.sent ? t("verifySent") : t("emailVerified"));
    } catch (err) {
      ctx.toast(err.code === "rate_limited" ? t("tooManyMails") : err.message);
    } finally {
      again.disabled = false;
    }
  } }, t("verifyAgain"));
  const banner = h("div", { class: "banner verify-banner", role: "status", "data-testid": "verify-banner" },
    "✉", note, again);
  const show = (user) => { banner.hidden = !(required && user && user.email_verified === false); };
  show(ctx.store.state.user);
  return { el: banner, show };
}
