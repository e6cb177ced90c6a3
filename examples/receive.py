"""Accept what reaches Hà Nội (H29) until nothing comes for N s: python examples/receive.py N"""

import asyncio
import sys

from consumers import Receiver
from docbus import Settings
from schemas import StatusCode


async def main(idle_s: float) -> None:
    async with Receiver(agency="000.00.00.H29", settings=Settings.from_env()) as receiver:
        while True:
            try:  # each document once; its 01 goes back with the answer
                received = await asyncio.wait_for(anext(receiver), idle_s)
            except TimeoutError:
                break
            print(f"received {received.document.document_id}: {received.document.subject}")
            await received.notify(StatusCode.ACCEPTED, "Đã vào sổ")  # durable when it returns


asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0))
