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

    // folders
    folders: "Folders", newFolder: "New folder", folderName: "Name", editFolder: "Edit folder",
    folderInstructions: "Instructions for the model (every chat in this folder)",
    folderInstructionsHint: "e.g. \"This is my thesis on Kazan's history; answer as a careful historian.\"",
    deleteFolder: "Delete folder", confirmDeleteFolder: "Delete the folder \"{name}\"? Its chats stay, at the top level.",
    moveTo: "Move to folder", noFolder: "No folder (top level)", move: "Move", chatsHeading: "Chats",
    emptyFolder: "No chats here yet: drag one in or use \"Move to folder\"",

    // share links
    share: "Share", shareChat: "Share this chat", createLink: "Create a link", copyLink: "Copy link",
    stopSharing: "Stop sharing", shareLink: "Link", noLinks: "This chat is not shared.",
    shareHint: "Anyone with the link can read the conversation as it is now, without signing in. Messages sent later are not shared; attachments never are.",
    sharedOnCount: "Shared {date} · {count} messages", sharedOn: "Shared {date}",
    sharedReadOnly: "A read-only copy shared from Chatwire.", continueInMyChats: "Continue in my chats",
    signInToContinue: "Sign in to continue this chat", shareNotFound: "This shared chat does not exist or is no longer shared.",
    // delete account and my data
    myData: "Your data", myDataHint: "One zip with your chats (every branch), profile, transactions and files.",
    downloadMyData: "Download my data", deleteAccount: "Delete account",
    deleteAccountHint: "Your chats, messages, files, profile and sessions are deleted for good. This cannot be undone.",
    deletePassword: "Your password", deleteNeedsPassword: "Enter your password first",
    deleteReally: "Delete everything, for good?", deleteForever: "Yes, delete my account",
    deleteWrongPassword: "That is not your password",
    // import
    importChats: "Import chats", importShort: "Import",
    importHint: "Import chats from a file: ChatGPT's conversations.json or a chat downloaded here as JSON",
    imported: "Chats imported: {count}", importedNone: "The file has no messages to import",
    importFailed: "Nothing was imported: {error}",
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
    // api keys
    apiKeys: "API keys", apiKeysHint: "For scripts and tools that speak the OpenAI API: base URL {base}, the key as the bearer token. Calls are billed from your credits.",
    apiKeyName: "Key name", apiKeyExpires: "Expires (optional)", apiKeyCap: "Monthly cap, credits (optional)",
    apiKeyNoCap: "no cap", apiKeyModels: "Models (optional: all)", apiKeyCreate: "Create a key",
    apiKeyNew: "Your new API key", apiKeyOnce: "Copy this key now: it will not be shown again.",
    apiKeyNone: "No API keys yet.", apiKeyAllModels: "all models", apiKeyCapShown: "up to {cap} credits a month",
    apiKeyExpiresOn: "expires {date}", apiKeyExpired: "expired {date}", apiKeyUsed: "used {date}",
    apiKeyNeverUsed: "never used", apiKeyRevoke: "Revoke", apiKeyRevokeConfirm: "Revoke the key “{name}”? Programs using it stop working at once.",
    // billing
    topUp: "Top up", topUpTitle: "Top up your credits", topUpHint: "You pay on the payment provider's page; your card details never reach this server.",
    packCredits: "{credits} credits", buy: "Buy", payWith: "Pay with {provider}",
    providerDown: "The payment provider is not answering; nothing was charged. Try again later.",
    orders: "Purchases", noOrders: "No purchases yet.", provider: "Provider", paid: "Price",
    creditsWord: "Credits", status: "Status", receipt: "receipt", kind_reversal: "refund of a purchase",
    order_pending: "pending", order_paid: "credited", order_failed: "failed", order_flagged: "under review",
    order_reversed: "refunded",
    paymentTitle: "Payment", payment_pending: "Payment pending… Your credits appear here as soon as the provider confirms it.",
    payment_paid: "Credited: your balance is topped up.", payment_failed: "The payment did not go through; nothing was charged.",
    payment_flagged: "The payment is being reviewed by the operator.", payment_reversed: "This payment was refunded.",
    paymentCancelled: "Payment cancelled: nothing was charged.",
    // admin
    admin: "Admin", adminUsers: "Users", adminAudit: "Audit log", adminSearch: "Search by email or name…",
    sortCreated: "Newest sign-ups", sortLastActive: "Last active", sortBalance: "Balance", sortSpend: "Spend (30 days)",
    role: "Role", roleUser: "User", roleAdmin: "Admin", statusCol: "Status", active: "Active", disabled: "Disabled",
    lastActive: "Last active", spend30: "Spend, 30 days", signedUp: "Signed up", never: "never",
    backToUsers: "← All users", disableAccount: "Disable account", enableAccount: "Enable account",
    confirmDisable: "Disable {email}? Their tabs close and they cannot log in until enabled; nothing is removed.",
    sessions: "Sessions", endAllSessions: "End all sessions", noSessions: "No live sessions",
    started: "Started", lastUsed: "Last used", device: "Device",
    depositTitle: "Add or adjust credits", depositKind: "Kind", creditsAmount: "Amount, credits",
    noteRequired: "Note (required for an adjustment)", depositDo: "Apply", depositDone: "Recorded: {amount} credits for {email}.",
    noteNeeded: "An adjustment needs a note saying why.", amountInvalid: "Enter an amount in credits, e.g. 10 or -2.5.",
    caps: "Spend caps", dailyCap: "Daily cap, credits", monthlyCap: "Monthly cap, credits", noCap: "no cap",
    saveCaps: "Save caps", capsSaved: "Caps saved.", roleSaved: "Role changed.",
    capLine: "{name}: {left} of {cap} left, resets {resets}", capDaily: "Daily cap", capMonthly: "Monthly cap",
    spendToday: "Spent today", replies30: "Replies, 30 days", ledger: "Ledger",
    actor: "Actor", action: "Action", target: "Target", change: "Change", address: "Address",
    allActions: "All actions", filterActor: "Actor email…",
    action_user_update: "Account changed", action_user_sessions_revoke: "Sessions ended",
    action_credits_deposit: "Deposit", action_credits_adjustment: "Adjustment",
    accountDisabled: "This account has been disabled by an administrator.",
    storageDown: "File storage is not answering right now; try again in a moment.",
    capReached: "Your {cap} spend cap is reached: {left} credits left of it, it resets {resets}.",
    daily: "daily", monthly: "monthly",
    // admin orders
    adminOrders: "Orders", allOrders: "All orders", noOrders: "No orders here.", orderCredits: "Credits",
    paymentId: "Payment id", flaggedAlert: "{count} flagged payments need a decision",
    ostatus_flagged: "Flagged", ostatus_pending: "Pending", ostatus_paid: "Paid", ostatus_failed: "Failed",
    ostatus_reversed: "Refunded", mismatchLine: "Expected {expected}, the provider reported {received}",
    resolveNote: "Note: why (required)", resolveNoteNeeded: "Write a note saying why first.",
    resolveCredit: "Credit {credits} credits", resolveDismiss: "Dismiss",
    resolvedCredit: "Credited by {by}, {at}", resolvedDismiss: "Dismissed by {by}, {at}",
    resolvedCreditDone: "Credited {credits} credits to {email}.", resolvedDismissDone: "Dismissed: nothing was credited to {email}.",
    action_order_credit: "Flagged order credited", action_order_dismiss: "Flagged order dismissed",
    // usage analytics
    adminUsage: "Usage", usagePeriod: "Period", usage7: "Last 7 days", usage30: "Last 30 days", usage90: "Last 90 days",
    usageCustom: "Custom…", usageFrom: "From", usageTo: "To", usageCsv: "Download CSV", usageNone: "Nothing in this period.",
    usageCost: "Cost", usageReplies: "Replies", usageTokens: "Tokens", usageActive: "Active users",
    usagePrompt: "Prompt tokens", usageCompletion: "Completion tokens", usageDay: "Day", usageModel: "Model",
    usageProvider: "Provider", usageByDay: "By day", usageByModel: "By model", usageTopUsers: "Top users by spend",
    usageByProvider: "By provider", usageComplete: "Complete", usageStopped: "Stopped", usageError: "Errors",
    usageInterrupted: "Interrupted", usageErrorRate: "Error rate", usageTtft50: "First token p50",
    usageTtft95: "First token p95", usageMs: "ms", usageOther: "other (titles, API)",
    usageBadRange: "Pick a period of 1 to 400 days, the first day before the last.",
    // admin packs
    adminPacks: "Packs", packId: "Pack id", packTitle: "Title", packTitleAuto: "e.g. 10 credits",
    packPrice: "Price", packCurrency: "Currency", packOnSale: "On sale", packSave: "Save", packAdd: "Add pack",
    packSaved: "Saved: {title} now costs {price}.", packAdded: "Added {title}.",
    packPriceInvalid: "Enter a price above zero, e.g. 5.00.", packCreditsInvalid: "Enter credits above zero, e.g. 10 or 2.5.",
    packIdNeeded: "Give the new pack an id, e.g. starter.", packTitleNeeded: "A pack needs a title.",
    packNoProvider: "Not sold: no enabled provider takes {currency}",
    packsHint: "What users can buy. A change applies to the next checkout; orders already made keep their price.",
    packsNoProvider: "No payment provider is enabled, so nothing is sold: set Stripe or YooKassa keys first.",
    action_pack_create: "Pack added", action_pack_update: "Pack changed",
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

    // folders
    folders: "Папки", newFolder: "Новая папка", folderName: "Название", editFolder: "Изменить папку",
    folderInstructions: "Инструкции для модели (для всех чатов этой папки)",
    folderInstructionsHint: "например: «Это моя диссертация об истории Казани; отвечай как внимательный историк».",
    deleteFolder: "Удалить папку", confirmDeleteFolder: "Удалить папку «{name}»? Её чаты останутся, вне папок.",
    moveTo: "Переместить в папку", noFolder: "Без папки", move: "Переместить", chatsHeading: "Чаты",
    emptyFolder: "Здесь пока нет чатов: перетащите сюда чат или выберите «Переместить в папку»",

    // share links
    share: "Поделиться", shareChat: "Поделиться чатом", createLink: "Создать ссылку", copyLink: "Скопировать ссылку",
    stopSharing: "Закрыть доступ", shareLink: "Ссылка", noLinks: "Этим чатом никто не делился.",
    shareHint: "Любой, у кого есть ссылка, прочтёт разговор в нынешнем виде, без входа. Более поздние сообщения не попадут в ссылку, вложения — никогда.",
    sharedOnCount: "Опубликовано {date} · сообщений: {count}", sharedOn: "Опубликовано {date}",
    sharedReadOnly: "Копия только для чтения из Chatwire.", continueInMyChats: "Продолжить в моих чатах",
    signInToContinue: "Войдите, чтобы продолжить этот чат", shareNotFound: "Такого общего чата нет, или доступ к нему закрыт.",
    // delete account and my data
    myData: "Ваши данные", myDataHint: "Один zip-архив: чаты (со всеми ветками), профиль, операции и файлы.",
    downloadMyData: "Скачать мои данные", deleteAccount: "Удалить аккаунт",
    deleteAccountHint: "Чаты, сообщения, файлы, профиль и сеансы будут удалены навсегда. Это нельзя отменить.",
    deletePassword: "Ваш пароль", deleteNeedsPassword: "Сначала введите пароль",
    deleteReally: "Удалить всё безвозвратно?", deleteForever: "Да, удалить аккаунт",
    deleteWrongPassword: "Пароль неверный",
    // import
    importChats: "Импорт чатов", importShort: "Импорт",
    importHint: "Импортировать чаты из файла: conversations.json из ChatGPT или чат, скачанный здесь в JSON",
    imported: "Импортировано чатов: {count}", importedNone: "В файле нет сообщений для импорта",
    importFailed: "Ничего не импортировано: {error}",
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
    // api keys
    apiKeys: "API-ключи", apiKeysHint: "Для скриптов и программ, говорящих на OpenAI API: адрес {base}, ключ — как bearer-токен. Вызовы оплачиваются из ваших кредитов.",
    apiKeyName: "Название ключа", apiKeyExpires: "Действует до (необязательно)", apiKeyCap: "Лимит в месяц, кредиты (необязательно)",
    apiKeyNoCap: "без лимита", apiKeyModels: "Модели (необязательно: все)", apiKeyCreate: "Создать ключ",
    apiKeyNew: "Ваш новый API-ключ", apiKeyOnce: "Скопируйте ключ сейчас: больше он показан не будет.",
    apiKeyNone: "API-ключей пока нет.", apiKeyAllModels: "все модели", apiKeyCapShown: "до {cap} кредитов в месяц",
    apiKeyExpiresOn: "действует до {date}", apiKeyExpired: "истёк {date}", apiKeyUsed: "использован {date}",
    apiKeyNeverUsed: "ещё не использовался", apiKeyRevoke: "Отозвать", apiKeyRevokeConfirm: "Отозвать ключ «{name}»? Программы с ним сразу перестанут работать.",
    // billing
    topUp: "Пополнить", topUpTitle: "Пополнение кредитов", topUpHint: "Оплата проходит на странице платёжной системы; данные карты на этот сервер не попадают.",
    packCredits: "{credits} кредитов", buy: "Купить", payWith: "Оплатить через {provider}",
    providerDown: "Платёжная система не отвечает; деньги не списаны. Попробуйте позже.",
    orders: "Покупки", noOrders: "Покупок пока нет.", provider: "Платёжная система", paid: "Цена",
    creditsWord: "Кредиты", status: "Статус", receipt: "чек", kind_reversal: "возврат покупки",
    order_pending: "ожидает оплаты", order_paid: "зачислено", order_failed: "не прошла", order_flagged: "на проверке",
    order_reversed: "возвращено",
    paymentTitle: "Оплата", payment_pending: "Ожидаем подтверждения оплаты… Кредиты появятся, как только платёжная система его пришлёт.",
    payment_paid: "Зачислено: баланс пополнен.", payment_failed: "Платёж не прошёл; деньги не списаны.",
    payment_flagged: "Платёж проверяет оператор.", payment_reversed: "Этот платёж возвращён.",
    paymentCancelled: "Оплата отменена: деньги не списаны.",
    // admin
    admin: "Админка", adminUsers: "Пользователи", adminAudit: "Журнал действий", adminSearch: "Поиск по почте или имени…",
    sortCreated: "Новые регистрации", sortLastActive: "Недавняя активность", sortBalance: "Баланс", sortSpend: "Расход (30 дней)",
    role: "Роль", roleUser: "Пользователь", roleAdmin: "Администратор", statusCol: "Статус", active: "Активен", disabled: "Отключён",
    lastActive: "Активность", spend30: "Расход за 30 дней", signedUp: "Регистрация", never: "никогда",
    backToUsers: "← Все пользователи", disableAccount: "Отключить аккаунт", enableAccount: "Включить аккаунт",
    confirmDisable: "Отключить {email}? Вкладки закроются, войти будет нельзя, пока аккаунт не включат; ничего не удаляется.",
    sessions: "Сеансы", endAllSessions: "Завершить все сеансы", noSessions: "Активных сеансов нет",
    started: "Начат", lastUsed: "Последний раз", device: "Устройство",
    depositTitle: "Пополнить или скорректировать", depositKind: "Тип", creditsAmount: "Сумма, кредиты",
    noteRequired: "Примечание (обязательно для корректировки)", depositDo: "Провести", depositDone: "Проведено: {amount} кредитов для {email}.",
    noteNeeded: "Для корректировки нужно примечание с причиной.", amountInvalid: "Введите сумму в кредитах, например 10 или -2,5.",
    caps: "Лимиты расхода", dailyCap: "Лимит в день, кредиты", monthlyCap: "Лимит в месяц, кредиты", noCap: "без лимита",
    saveCaps: "Сохранить лимиты", capsSaved: "Лимиты сохранены.", roleSaved: "Роль изменена.",
    capLine: "{name}: осталось {left} из {cap}, обновится {resets}", capDaily: "Лимит в день", capMonthly: "Лимит в месяц",
    spendToday: "Потрачено сегодня", replies30: "Ответов за 30 дней", ledger: "Операции",
    actor: "Кто", action: "Действие", target: "Над кем", change: "Изменение", address: "Адрес",
    allActions: "Все действия", filterActor: "Почта администратора…",
    action_user_update: "Изменён аккаунт", action_user_sessions_revoke: "Завершены сеансы",
    action_credits_deposit: "Пополнение", action_credits_adjustment: "Корректировка",
    accountDisabled: "Этот аккаунт отключён администратором.",
    storageDown: "Хранилище файлов сейчас не отвечает; попробуйте ещё раз чуть позже.",
    capReached: "Достигнут {cap} лимит расхода: осталось {left} кредитов, он обновится {resets}.",
    daily: "дневной", monthly: "месячный",
    // admin orders
    adminOrders: "Заказы", allOrders: "Все заказы", noOrders: "Заказов нет.", orderCredits: "Кредиты",
    paymentId: "Id платежа", flaggedAlert: "Платежей на проверке: {count} — нужно решение",
    ostatus_flagged: "На проверке", ostatus_pending: "Ожидает", ostatus_paid: "Оплачен", ostatus_failed: "Не прошёл",
    ostatus_reversed: "Возвращён", mismatchLine: "Ожидалось {expected}, платёжная система сообщила {received}",
    resolveNote: "Примечание: почему (обязательно)", resolveNoteNeeded: "Сначала напишите примечание с причиной.",
    resolveCredit: "Зачислить {credits} кредитов", resolveDismiss: "Отклонить",
    resolvedCredit: "Зачислено: {by}, {at}", resolvedDismiss: "Отклонено: {by}, {at}",
    resolvedCreditDone: "Зачислено {credits} кредитов для {email}.", resolvedDismissDone: "Отклонено: {email} ничего не зачислено.",
    action_order_credit: "Зачислен заказ на проверке", action_order_dismiss: "Отклонён заказ на проверке",
    // usage analytics
    adminUsage: "Расход", usagePeriod: "Период", usage7: "Последние 7 дней", usage30: "Последние 30 дней",
    usage90: "Последние 90 дней", usageCustom: "Другой…", usageFrom: "С", usageTo: "По", usageCsv: "Скачать CSV",
    usageNone: "За этот период ничего нет.", usageCost: "Стоимость", usageReplies: "Ответы", usageTokens: "Токены",
    usageActive: "Активные пользователи", usagePrompt: "Токены запроса", usageCompletion: "Токены ответа",
    usageDay: "День", usageModel: "Модель", usageProvider: "Провайдер", usageByDay: "По дням", usageByModel: "По моделям",
    usageTopUsers: "Больше всего потратили", usageByProvider: "По провайдерам", usageComplete: "Готово",
    usageStopped: "Остановлено", usageError: "Ошибки", usageInterrupted: "Прервано", usageErrorRate: "Доля ошибок",
    usageTtft50: "Первый токен p50", usageTtft95: "Первый токен p95", usageMs: "мс", usageOther: "прочее (названия, API)",
    usageBadRange: "Выберите период от 1 до 400 дней, первый день раньше последнего.",
    // admin packs
    adminPacks: "Пакеты", packId: "Id пакета", packTitle: "Название", packTitleAuto: "например, 10 кредитов",
    packPrice: "Цена", packCurrency: "Валюта", packOnSale: "В продаже", packSave: "Сохранить", packAdd: "Добавить пакет",
    packSaved: "Сохранено: {title} теперь стоит {price}.", packAdded: "Добавлен {title}.",
    packPriceInvalid: "Введите цену больше нуля, например 5.00.", packCreditsInvalid: "Введите число кредитов больше нуля, например 10 или 2.5.",
    packIdNeeded: "Задайте id нового пакета, например starter.", packTitleNeeded: "У пакета должно быть название.",
    packNoProvider: "Не продаётся: ни одна включённая платёжная система не принимает {currency}",
    packsHint: "Что могут купить пользователи. Изменение действует со следующей оплаты; уже созданные заказы сохраняют свою цену.",
    packsNoProvider: "Ни одна платёжная система не включена, продавать нечего: сначала задайте ключи Stripe или ЮKassa.",
    action_pack_create: "Добавлен пакет", action_pack_update: "Изменён пакет",
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
  if (error.code === "account_disabled") return t("accountDisabled");
  if (error.code === "unavailable" && error.service === "storage") return t("storageDown");
  if (error.code === "spend_cap_reached" && error.resets_at) {
    return t("capReached", { cap: t(error.cap), left: credits(error.left), resets: formatDate(error.resets_at) });
  }
  return error.message;
}

export function formatDate(iso) {
  return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" })
    .format(new Date(iso));
}

setLanguage(lang);
