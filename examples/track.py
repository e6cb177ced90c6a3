"""Send a letter and wait until every recipient accepts it (03): python examples/track.py"""

import asyncio
import datetime as dt

from docbus import Settings
from producers import Sender, official_letter
from schemas import StatusCode


async def main() -> None:
    letter = official_letter(
        sender="000.00.00.G22",
        recipients=["000.00.00.H29"],
        subject="V/v lấy ý kiến dự thảo",
        number=dt.datetime.now().strftime("%H%M%S%f"),
        notation="CV-VPCP",
    )
    async with Sender(agency="000.00.00.G22", settings=Settings.from_env()) as sender:
        # DeliveryRejected if a recipient (or the bus) answers 02; DeliveryTimeout after 60 s
        receipt = await sender.send(letter, wait_for=StatusCode.ACCEPTED, timeout=60)
    for recipient, status in receipt.statuses.items():
        print(f"{receipt.document_id}: {recipient} is at status {status}")


asyncio.run(main())
