"""Send a letter and follow it until every recipient has accepted it (status 03).

Run a receiver meanwhile (python examples/receive.py): python examples/track.py
"""

import asyncio
import datetime as dt

from docbus import DeliveryError, Settings
from producers import Sender, official_letter
from schemas import StatusCode


async def main() -> None:
    settings = Settings.from_env()
    letter = official_letter(
        sender="000.00.00.G22",
        recipients=["000.00.00.H29"],
        subject="V/v lấy ý kiến dự thảo",
        number=dt.datetime.now().strftime("%H%M%S%f"),
        notation="CV-VPCP",
    )
    async with Sender(agency="000.00.00.G22", settings=settings) as sender:
        try:
            receipt = await sender.send(letter, wait_for=StatusCode.ACCEPTED, timeout=60)
        except DeliveryError as exc:  # rejected (02) by a recipient or the bus, or no answer
            raise SystemExit(f"error: {exc}") from None
    for recipient, status in receipt.statuses.items():
        print(f"{receipt.document_id}: {recipient} is at status {status}")


if __name__ == "__main__":
    asyncio.run(main())
