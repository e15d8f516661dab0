// Every string of the interface, in Russian and English. The language comes from the browser,
// with a switch in the header (remembered in localStorage); dates and numbers go through Intl.
const CATALOGUE = {
  en: {
    appName: "Chatwire", login: "Log in", signup: "Sign up", logout: "Log out",
    email: "Email", password: "Password", displayName: "Name (optional)",
    haveAccount: "Have an account? Log in", noAccount: "New here? Sign up",
    newChat: "New chat", search: "Search chats…", favorites: "Favorites", trash: "Trash",
    allChats: "All chats", untitled: "New chat", rename: "Rename", delete: "Move to trash",
    restore: "Restore", purge: "Delete forever", favorite: "Favorite", tags: "Tags",
    emptyChats: "No chats yet", emptyTrash: "The trash is empty",
    placeholder: "Message… (Enter to send, Shift+Enter for a new line)",
    send: "Send", stop: "Stop", regenerate: "Regenerate", edit: "Edit", save: "Save",
    cancel: "Cancel", copy: "Copy", copied: "Copied", analyze: "Analyze for my profile",
    model: "Model", pricePerM: "{input} / {output} credits per 1M tokens",
    tokens: "{prompt} + {completion} tokens", cost: "{cost} credits",
    cachedTokens: "{count} from cache", cacheWrites: "{count} cached now",
    reasoningTokens: "{count} thinking",
    balance: "Balance", transactions: "Transactions", profile: "Profile",
    connected: "Connected", reconnecting: "Reconnecting…", offline: "Offline",
    attach: "Attach a file", uploading: "Uploading {name}…", remove: "Remove",
    stopped: "stopped", interrupted: "interrupted", error: "error",
    values: "Values", beliefs: "Beliefs", interests: "Interests", skills: "Skills",
    desires: "Desires", intentions: "Intentions", addItem: "Add", weight: "Weight",
    suggestions: "Suggestions", applyAll: "Add to my profile", nothingFound: "Nothing found",
    close: "Close", theme: "Theme", language: "Язык: русский", kind: "Kind", amount: "Amount",
    date: "Date", startChatting: "Start a conversation: type a message below.",
    confirmPurge: "Delete this chat forever?", branch: "Version {index} of {count}",
    newItem: "New item…", personalize: "Use my profile in this chat",
    connecting: "Connecting…", queued: "Queued", menu: "Menu", retry: "Retry",
    tooLong: "This message is too long to send: at most about {max} characters. Attach it as a file instead.",
    attachInstead: "This text is too long for one message. Attach it as a text file instead?",
    noCredits: "Not enough credits: this reply may cost up to {needed}, and {available} are available. Your message is kept — top up and press Retry.",
    busy: "Wait for the reply to finish, or stop it.",
    trashed: "This chat is in the trash.", draft: "New chat",
    kind_deposit: "Deposit", kind_usage: "Usage", kind_refund: "Refund", kind_adjustment: "Adjustment",
    note: "Note", loadMore: "Load more",
    copyMarkdown: "Copy", copyText: "Copy as text",
    suggestPlan: "Plan a trip", suggestPlanText: "Plan a three-day trip to Kazan in May: what to see and where to eat.",
    suggestExplain: "Explain simply", suggestExplainText: "Explain how a vaccine trains the immune system, as if to a twelve-year-old.",
    suggestTranslate: "Translate", suggestTranslateText: "Translate into Russian: \"The meeting is moved to Thursday at 10.\"",
    suggestCode: "Write code", suggestCodeText: "Write a Python function that checks whether a string is a palindrome.",
    today: "Today", yesterday: "Yesterday", week: "Previous 7 days", older: "Older",
    shortcuts: "Keyboard shortcuts", shortcutSearch: "Search chats", shortcutNew: "New chat",
    shortcutStop: "Stop the reply", shortcutEditLast: "Edit your last message (in an empty box)",
    shortcutHelp: "This list", account: "Account",
    accountSettings: "Settings", defaultModel: "Default model for new chats", serverDefault: "The server's default",
    savedNote: "Saved", currentPassword: "Current password", newPassword: "New password (8 characters or more)",
    changePassword: "Change password", passwordChanged: "Password changed; your other sessions were signed out",
    sessions: "Sessions", thisDevice: "This device", endSession: "Sign out", unknownDevice: "Unknown device",
    chatSettings: "Chat settings", export: "Download", systemPrompt: "System prompt", earlier: "Show earlier messages",
    systemPromptHint: "How the model should answer in this chat, e.g. \"Answer briefly, in Russian.\"",
    // password reset and verification
    forgotPassword: "Forgot password?", forgotTitle: "Reset your password",
    forgotHint: "Enter the email of your account and we will mail you a link to choose a new password.",
    resetSend: "Send the link", backToLogin: "Back to log in", checkMailTitle: "Check your mail",
    checkMail: "If {email} has an account, a link to reset its password is on its way. It works for 30 minutes.",
    tooManyMails: "Too many mails asked for; try again later.", chooseTitle: "Choose a new password",
    repeatPassword: "Repeat the new password", setPassword: "Set the password",
    passwordsDiffer: "The two passwords differ.", passwordReset: "Your password is changed; you are signed in.",
    resetLinkInvalid: "This link is invalid, already used or expired. Ask for a new one.",
    emailVerified: "Your email is confirmed.", verifyBanner: "Please confirm your email: open the link we mailed you to start sending messages.",
    verifyAgain: "Send again", verifySent: "A new link is on its way.",
    emailUnverified: "Confirm your email first: open the link we mailed you.",
  },
  ru: {
    appName: "Chatwire", login: "Войти", signup: "Зарегистрироваться", logout: "Выйти",
    email: "Эл. почта", password: "Пароль", displayName: "Имя (необязательно)",
    haveAccount: "Уже есть аккаунт? Войти", noAccount: "Впервые здесь? Регистрация",
    newChat: "Новый чат", search: "Поиск по чатам…", favorites: "Избранное", trash: "Корзина",
    allChats: "Все чаты", untitled: "Новый чат", rename: "Переименовать", delete: "В корзину",
    restore: "Восстановить", purge: "Удалить навсегда", favorite: "В избранное", tags: "Метки",
    emptyChats: "Чатов пока нет", emptyTrash: "Корзина пуста",
    placeholder: "Сообщение… (Enter — отправить, Shift+Enter — новая строка)",
    send: "Отправить", stop: "Остановить", regenerate: "Ответить заново", edit: "Изменить",
    save: "Сохранить", cancel: "Отмена", copy: "Копировать", copied: "Скопировано",
    analyze: "Разобрать для профиля", model: "Модель",
    pricePerM: "{input} / {output} кредитов за 1 млн токенов",
    tokens: "{prompt} + {completion} токенов", cost: "{cost} кредитов",
    cachedTokens: "{count} из кэша", cacheWrites: "{count} в кэш",
    reasoningTokens: "{count} на рассуждения",
    balance: "Баланс", transactions: "Операции", profile: "Профиль",
    connected: "Подключено", reconnecting: "Переподключение…", offline: "Нет связи",
    attach: "Прикрепить файл", uploading: "Загрузка {name}…", remove: "Убрать",
    stopped: "остановлено", interrupted: "прервано", error: "ошибка",
    values: "Ценности", beliefs: "Убеждения", interests: "Интересы", skills: "Навыки",
    desires: "Желания", intentions: "Намерения", addItem: "Добавить", weight: "Вес",
    suggestions: "Предложения", applyAll: "Добавить в профиль", nothingFound: "Ничего не найдено",
    close: "Закрыть", theme: "Тема", language: "Language: English", kind: "Тип", amount: "Сумма",
    date: "Дата", startChatting: "Начните разговор: напишите сообщение ниже.",
    confirmPurge: "Удалить этот чат навсегда?", branch: "Вариант {index} из {count}",
    newItem: "Новый пункт…", personalize: "Учитывать мой профиль в этом чате",
    connecting: "Подключение…", queued: "В очереди", menu: "Меню", retry: "Повторить",
    tooLong: "Сообщение слишком длинное: не больше {max} символов. Приложите его файлом.",
    attachInstead: "Текст слишком длинный для одного сообщения. Приложить его текстовым файлом?",
    noCredits: "Не хватает кредитов: ответ может стоить до {needed}, доступно {available}. Сообщение сохранено — пополните баланс и нажмите «Повторить».",
    busy: "Дождитесь окончания ответа или остановите его.",
    trashed: "Этот чат в корзине.", draft: "Новый чат",
    kind_deposit: "Пополнение", kind_usage: "Расход", kind_refund: "Возврат", kind_adjustment: "Корректировка",
    note: "Примечание", loadMore: "Показать ещё",
    copyMarkdown: "Копировать", copyText: "Копировать текстом",
    suggestPlan: "Спланировать поездку", suggestPlanText: "Составь план поездки в Казань на три дня в мае: что посмотреть и где поесть.",
    suggestExplain: "Объяснить просто", suggestExplainText: "Объясни, как вакцина тренирует иммунитет, так, чтобы понял двенадцатилетний.",
    suggestTranslate: "Перевести", suggestTranslateText: "Переведи на английский: «Встреча переносится на четверг, 10:00».",
    suggestCode: "Написать код", suggestCodeText: "Напиши функцию на Python, которая проверяет, является ли строка палиндромом.",
    today: "Сегодня", yesterday: "Вчера", week: "Последние 7 дней", older: "Раньше",
    shortcuts: "Горячие клавиши", shortcutSearch: "Поиск по чатам", shortcutNew: "Новый чат",
    shortcutStop: "Остановить ответ", shortcutEditLast: "Изменить последнее сообщение (в пустом поле)",
    shortcutHelp: "Этот список", account: "Аккаунт",
    accountSettings: "Настройки", defaultModel: "Модель для новых чатов", serverDefault: "По умолчанию на сервере",
    savedNote: "Сохранено", currentPassword: "Текущий пароль", newPassword: "Новый пароль (от 8 символов)",
    changePassword: "Сменить пароль", passwordChanged: "Пароль изменён; другие сеансы завершены",
    sessions: "Сеансы", thisDevice: "Это устройство", endSession: "Завершить", unknownDevice: "Неизвестное устройство",
    chatSettings: "Настройки чата", export: "Скачать", systemPrompt: "Системная инструкция", earlier: "Показать более ранние сообщения",
    systemPromptHint: "Как модели отвечать в этом чате, например: «Отвечай кратко, по-английски».",
    // password reset and verification
    forgotPassword: "Забыли пароль?", forgotTitle: "Сброс пароля",
    forgotHint: "Введите почту вашей учётной записи, и мы пришлём ссылку, чтобы задать новый пароль.",
    resetSend: "Прислать ссылку", backToLogin: "Вернуться ко входу", checkMailTitle: "Проверьте почту",
    checkMail: "Если у {email} есть учётная запись, ссылка для сброса пароля уже в пути. Она действует 30 минут.",
    tooManyMails: "Слишком много писем; попробуйте позже.", chooseTitle: "Новый пароль",
    repeatPassword: "Повторите новый пароль", setPassword: "Сохранить пароль",
    passwordsDiffer: "Пароли не совпадают.", passwordReset: "Пароль изменён, вы вошли.",
    resetLinkInvalid: "Ссылка недействительна, уже использована или устарела. Запросите новую.",
    emailVerified: "Почта подтверждена.", verifyBanner: "Подтвердите почту: откройте ссылку из письма, чтобы отправлять сообщения.",
    verifyAgain: "Отправить ещё раз", verifySent: "Новая ссылка уже в пути.",
    emailUnverified: "Сначала подтвердите почту: откройте ссылку из письма.",
  },
};

const saved = localStorage.getItem("chatwire.lang");
let lang = saved || ((navigator.language || "en").toLowerCase().startsWith("ru") ? "ru" : "en");

export function language() { return lang; }

export function setLanguage(next) {
  lang = next in CATALOGUE ? next : "en";
  localStorage.setItem("chatwire.lang", lang);
  document.documentElement.lang = lang;
}

export function t(key, vars = {}) {
  const text = CATALOGUE[lang][key] ?? CATALOGUE.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? vars[name] : `{${name}}`));
}

export function formatNumber(value, digits = 0) {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(value);
}

// Micro-credits to credits, as people read money.
export function credits(micro) {
  return new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 6 })
    .format(micro / 1_000_000);
}

// The header's balance: two decimals (the exact figure is in its title and the dialog).
export function creditsShort(micro) {
  return new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    .format(Math.trunc(micro / 10_000) / 100);
}

// A server error as a person should read it, in their language where we know the case.
export function describe(error) {
  if (error.code === "insufficient_balance" && error.needed !== undefined) {
    return t("noCredits", { needed: credits(error.needed), available: credits(error.available) });
  }
  if (error.code === "conflict" && /still streaming/.test(error.message)) return t("busy");
  if (error.code === "email_unverified") return t("emailUnverified");
  return error.message;
}

export function formatDate(iso) {
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" })
    .format(new Date(iso));
}

setLanguage(lang);
