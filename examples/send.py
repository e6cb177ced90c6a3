"""Send a letter from the Government Office (G22) to Hà Nội (H29): python examples/send.py"""

import asyncio
import datetime as dt

from docbus import Settings
from producers import Sender, official_letter


async def main() -> None:
    letter = official_letter(
        sender="000.00.00.G22",
        recipients=["000.00.00.H29"],
        subject="V/v báo cáo tình hình triển khai",
        number=dt.datetime.now().strftime("%H%M%S%f"),  # the agency's register number
        notation="TB-VPCP",
    )
    async with Sender(agency="000.00.00.G22", settings=Settings.from_env()) as sender:
        receipt = await sender.send(letter)  # returns once the broker holds it
    print(f"sent {receipt.document_id}")


asyncio.run(main())
