"""Open N WebSockets to URL (socket i with the bearer token on line i of TOKENS_FILE, if given),
wait for each one's first frame, print "ready N" (N: how many were greeted with hello), and hold
them until stdin closes; a line "alive" on stdin prints how many are still open.

Each socket keeps reading, as a real client does: aiohttp answers the server's heartbeat pings
only while the socket is read, and an unanswered ping closes it (after ~45 s, which a run of
20,000 sockets outlasts while it connects). Run as a separate process so the client's memory and
CPU are not the server's."""
import asyncio
import sys

import aiohttp


async def drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for _ in ws:
        pass


async def main(url: str, n: int, tokens_file: str) -> None:
    tokens = open(tokens_file).read().split() if tokens_file else []

    def headers(i: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[i % len(tokens)]}"} if tokens else {}
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets, readers, greeted, refused = [], [], 0, 0
        for start in range(0, n, 200):
            batch = await asyncio.gather(*[session.ws_connect(url, headers=headers(i), heartbeat=None)
                                           for i in range(start, min(n, start + 200))])
            for ws in batch:
                first = await ws.receive(timeout=30)
                if first.type == aiohttp.WSMsgType.TEXT and '"hello"' in first.data:
                    greeted += 1
                else:
                    refused += 1
                    if refused == 1:  # the first refusal says why
                        print(f"refused: {first.data!r}", file=sys.stderr, flush=True)
                readers.append(loop.create_task(drain(ws)))
            sockets += batch
        print(f"ready {greeted}", flush=True)  # sockets that were greeted, not refused
        while (line := await loop.run_in_executor(None, sys.stdin.readline)):
            if line.strip() == "alive":
                print(f"alive {sum(not ws.closed for ws in sockets)}", flush=True)
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*readers, return_exceptions=True)


asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else ""))
