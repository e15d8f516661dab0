// The REST side: sign-up, log-in, log-out (the session cookie is the credential: no token is kept
// in the page or in storage), file uploads with progress, and chat imports.

export class ApiError extends Error {
  constructor(code, message, status, field) {
    super(message);
    this.code = code;
    this.status = status;
    this.field = field;  // the body field a bad_request is about, when the server names one
  }
}

async function request(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    credentials: "same-origin",
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new ApiError(error.code || "internal", error.message || response.statusText, response.status,
      error.field);
  }
  return data;
}

export const me = () => request("GET", "/api/v1/auth/me");
// Who is signed in, or null: answered 200 either way, so a first visit logs no failed request.
export const session = () => request("GET", "/api/v1/auth/session");
export const login = (email, password) => request("POST", "/api/v1/auth/login", { email, password });
export const register = (email, password, displayName, lang) =>
  request("POST", "/api/v1/auth/register", { email, password, display_name: displayName || null, lang });
// Links by mail (password reset, email verification); `lang` is the mail's language.
export const passwordReset = (email, lang) => request("POST", "/api/v1/auth/password-reset", { email, lang });
export const confirmPasswordReset = (token, password) =>
  request("POST", "/api/v1/auth/password-reset/confirm", { token, password });
export const verifyEmail = (token) => request("POST", "/api/v1/auth/verify-email", { token });
export const resendVerification = (lang) => request("POST", "/api/v1/auth/verify-email/resend", { lang });
export const logout = () => request("POST", "/api/v1/auth/logout", {});
export const share = (id) => request("GET", `/api/v1/shares/${encodeURIComponent(id)}`);
export const continueShare = (id) => request("POST", `/api/v1/shares/${encodeURIComponent(id)}/continue`, {});

export function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/files");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status === 201) resolve(data.file);
      else reject(Object.assign(new ApiError(data.error?.code || "internal", data.error?.message || xhr.statusText,
        xhr.status, data.error?.field), { service: data.error?.service }));
    };
    xhr.onerror = () => reject(new ApiError("unavailable", "network error", 0));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

// Chats from a file (ChatGPT's conversations.json, or our own JSON export): all of them or, with
// an ApiError saying what is wrong, none.
export async function importChats(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await fetch("/api/v1/chats/import", { method: "POST", body: form, credentials: "same-origin" });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new ApiError(error.code || "internal", error.message || response.statusText, response.status);
  }
  return data;
}
