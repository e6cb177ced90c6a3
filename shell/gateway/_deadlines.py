"""A request body must arrive at a minimum rate: a client that uploads slower (or
vanishes mid-body) is answered 408 and its request ends, instead of holding a
connection and a task for as long as it likes."""

import asyncio
from typing import Any

from shell.gateway._problems import Problem

__all__ = ["UploadDeadline"]


class UploadDeadline:
    """ASGI middleware: the body of a request must be whole by ``grace_seconds`` plus its
    size (declared, else ``max_body_bytes``) at ``min_bytes_per_second``."""

    def __init__(
        self, app: Any, *, grace_seconds: float, min_bytes_per_second: int, max_body_bytes: int
    ) -> None:
        self.app = app
        self.grace_seconds = grace_seconds
        self.min_bytes_per_second = min_bytes_per_second
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        size = (
            min(int(declared), self.max_body_bytes) if declared.isdigit() else self.max_body_bytes
        )
        allowed = self.grace_seconds + size / self.min_bytes_per_second
        deadline = asyncio.get_running_loop().time() + allowed
        whole = False

        async def receive_in_time() -> dict[str, Any]:
            nonlocal whole
            if whole:  # after the body: a wait for the client's disconnect, not an upload
                return dict(await receive())
            try:
                async with asyncio.timeout_at(deadline):
                    message = dict(await receive())
            except TimeoutError:
                raise Problem(
                    408,
                    "too-slow",
                    f"the body did not arrive within {allowed:.0f} s",
                    headers={"Connection": "close"},  # the rest of it is not waited for
                ) from None
            whole = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, receive_in_time, send)
