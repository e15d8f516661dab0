"""Open N WebSockets to URL (socket i with the bearer token on line i of TOKENS_FILE, if given),
wait for each one's first frame, print "ready N" (N: how many were greeted with hello), and hold them until stdin closes. Run as a
separate process so the client's memory and CPU are not the server's."""
import asyncio
import sys

import aiohttp


async def main(url: str, n: int, tokens_file: str) -> None:
    tokens = open(tokens_file).read().split() if tokens_file else []

    def headers(i: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[i % len(tokens)]}"} if tokens else {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets, greeted = [], 0
        for start in range(0, n, 200):
            batch = await asyncio.gather(*[session.ws_connect(url, headers=headers(i), heartbeat=None)
                                           for i in range(start, min(n, start + 200))])
            for ws in batch:
                first = await ws.receive(timeout=30)
                greeted += first.type == aiohttp.WSMsgType.TEXT and '"hello"' in first.data
            sockets += batch
        print(f"ready {greeted}", flush=True)  # sockets that were greeted, not refused
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        for ws in sockets:
            await ws.close()


asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else ""))
