"""A fake provider API served for real: uvicorn on a free loopback port, in this event loop."""

from __future__ import annotations

import asyncio

import uvicorn
from fastapi import FastAPI


class LocalServer:
    """Serve an app until `stop()`; `port` is known once `start()` returned."""

    def __init__(self, app: FastAPI) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    async def start(self) -> int:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # startup failed: raise why
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        assert self._task is not None, "the server was not started"
        self._server.should_exit = True
        await self._task
