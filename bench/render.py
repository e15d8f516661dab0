"""Web client render benchmark (issue 21), in Debian's headless Chromium through Playwright.

1. Streaming: main-thread time per delta while a reply streams in, at 1k, 10k and 50k characters
   into it (deltas of ~30 characters, as the server's 50 ms coalescing sends them), for the
   client's StreamRenderer and, as the baseline in the same page, re-rendering the whole reply
   per delta (what the client did before). Target: last/first ≤ 2.
2. Opening a chat of 2,000 messages: from `openChat` to the frame after its newest page is
   drawn (the server sends that page; older ones come on "Show earlier messages"), beside
   opening a chat of 20 (the baseline) in the same page. Target: ≤ 300 ms.

    .venv/bin/python bench/render.py
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import SERVER_ENV, free_port, spawn, stop, wait_http  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
POINTS = (1_000, 10_000, 50_000)

# A reply as models write them: paragraphs, a list, a table, a code block now and then.
REPLY = """(() => {
  const para = (i) => `Paragraph ${i}: the **important** part, with \\`code\\`, a [link](https://example.com/${i}) `
    + "and enough ordinary words to make a line or two of prose that wraps in the reply. ".repeat(3);
  const parts = [];
  for (let i = 0; parts.join("\\n\\n").length < 60000; i++) {
    parts.push(para(i));
    if (i % 7 === 3) parts.push("- one item\\n- another item with *emphasis*\\n- a third");
    if (i % 11 === 5) parts.push("| a | b |\\n|---|---|\\n| 1 | 2 |");
    if (i % 9 === 8) parts.push("```python\\ndef f(x):\\n    return x * 2\\n\\nprint(f(21))\\n```");
  }
  return parts.join("\\n\\n");
})()"""

MEASURE = """async ([reply, points]) => {
  const { StreamRenderer, render } = await import("/static/js/markdown.js");
  const timeAt = (draw) => {
    const out = {};
    for (const point of points) {  // 20 deltas timed together (the clock is coarse), 5 times
      const runs = [];
      for (let run = 0; run < 5; run++) {
        const started = performance.now();
        for (let end = point + run * 600; end < point + (run + 1) * 600; end += 30) draw(reply.slice(0, end));
        runs.push((performance.now() - started) / 20);
      }
      runs.sort((a, b) => a - b);
      out[point] = runs[2];
    }
    return out;
  };
  const host = document.createElement("div");
  document.body.append(host);
  const streamer = new StreamRenderer(host);
  // Stream up to each point first (as a reply would), then time the deltas around it.
  const streamed = {};
  let at = 0;
  for (const point of points) {
    for (; at < point; at += 30) streamer.update(reply.slice(0, at));
    Object.assign(streamed, timeAt((text) => streamer.update(text)));
    at = point + 3000;
  }
  const whole = timeAt((text) => render(host, text));
  host.remove();
  return { streamed, whole };
}"""


async def seed_chat(database_url: str, user_id: str, count: int) -> str:
    from storage import chats, messages, new_id, open_database, utcnow

    db = await open_database(database_url, pool_size=1)
    try:
        chat = await chats.insert(db, id=new_id(), user_id=user_id, title="long", favorite=False,
                                  model=None, system_prompt=None, tags=[], now=utcnow())
        parent = None
        async with db.transaction() as tx:
            for i in range(count):
                row = await messages.insert(
                    tx, id=new_id(), chat_id=chat["id"], user_id=user_id, parent_id=parent,
                    role="user" if i % 2 == 0 else "assistant",
                    content=f"Message {i}: some **markdown** text and `code`, like a real turn.",
                    model=None if i % 2 == 0 else "echo", status="complete", client_msg_id=None,
                    now=utcnow())
                parent = row["id"]
            await chats.touch(tx, chat["id"], utcnow(), current_message_id=parent)
        return chat["id"]
    finally:
        await db.close()


async def open_time(page, chat_id: str) -> list:
    return await page.evaluate("""async (chatId) => {
      const app = window.chatwire;
      app.newChat();  // from an empty screen each time
      await new Promise((r) => setTimeout(r, 50));
      const started = performance.now();
      await app.openChat(chatId);
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return [performance.now() - started, document.querySelectorAll("article").length];
    }""", chat_id)


async def main() -> None:
    from playwright.async_api import async_playwright

    tmp = Path(tempfile.mkdtemp(prefix="chatwire-render-"))
    database_url = f"sqlite:///{tmp / 'render.db'}"
    port = free_port()
    server = spawn(["run.py", "serve"], env={**SERVER_ENV, "DATABASE_URL": database_url,
                                             "VAR_DIR": str(tmp / "var"), "PORT": str(port),
                                             "REDIS_URL": ""})
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_http(f"{base}/healthz", server)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM,
                                              args=["--headless", "--no-sandbox", "--disable-gpu"])
            # The page's CSP refuses Playwright's string-evaluating waits; nothing else differs.
            context = await browser.new_context(viewport={"width": 1280, "height": 800},
                                                bypass_csp=True)
            page = await context.new_page()
            await page.goto(base)
            await page.evaluate("""() => fetch('/api/v1/auth/register', { method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ email: 'bench@example.com', password: 'correct horse battery' }) })""")
            await page.goto(base)
            await page.wait_for_function("window.chatwire?.store.state.connection === 'connected'")
            reply = await page.evaluate(REPLY)
            timed = await page.evaluate(MEASURE, [reply, list(POINTS)])
            streamed = {int(k): v for k, v in timed["streamed"].items()}
            whole = {int(k): v for k, v in timed["whole"].items()}
            print(json.dumps({"bench": "render", "what": "ms per delta (median of 5 runs of 20 deltas)",
                              "stream_renderer": {k: round(v, 3) for k, v in streamed.items()},
                              "ratio_last_first": round(streamed[POINTS[-1]] / streamed[POINTS[0]], 2),
                              "baseline_whole_reply": {k: round(v, 3) for k, v in whole.items()},
                              "baseline_ratio_last_first": round(whole[POINTS[-1]] / whole[POINTS[0]], 2),
                              "at_50k_vs_baseline": round(streamed[POINTS[-1]] / whole[POINTS[-1]], 3)}))
            user_id = await page.evaluate("window.chatwire.store.state.user.id")
            long_chat = await seed_chat(database_url, user_id, 2000)
            short_chat = await seed_chat(database_url, user_id, 20)
            long_runs, short_runs = [], []
            for _ in range(5):  # alternated, so a drift of the machine lands on both
                long_runs.append(await open_time(page, long_chat))
                short_runs.append(await open_time(page, short_chat))
            long_ms, drawn = sorted(long_runs)[2]
            short_ms, _ = sorted(short_runs)[2]
            print(json.dumps({"bench": "render", "what": "open a chat (ms to the frame after, median of 5)",
                              "messages_2000": round(long_ms, 1), "drawn": drawn,
                              "baseline_messages_20": round(short_ms, 1),
                              "ratio_to_baseline": round(long_ms / short_ms, 2)}))
            await browser.close()
    finally:
        stop(server)


if __name__ == "__main__":
    asyncio.run(main())
