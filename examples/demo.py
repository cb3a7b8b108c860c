"""`make demo`: stream a Grok reply through the low-level client.

With `XAI_API_KEY` set it talks to api.x.ai; without one it starts the bundled emulator
(`langchain_grok.testing.FakeXAIServer`) on 127.0.0.1 and says so, so the demo runs anywhere.
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack

from langchain_grok import XAIClient


def main() -> int:
    with ExitStack() as stack:
        if os.environ.get("XAI_API_KEY"):
            print("Using the real xAI API (XAI_API_KEY is set).\n")
            client = stack.enter_context(XAIClient())
        else:
            from langchain_grok.testing import FakeXAIServer

            server = stack.enter_context(FakeXAIServer())
            print(
                "XAI_API_KEY is not set: running OFFLINE against the local xAI emulator at "
                f"{server.base_url}.\nReplies are canned echoes, not a real model.\n"
            )
            client = stack.enter_context(
                XAIClient(api_key=server.api_key, base_url=server.base_url)
            )

        messages = [{"role": "user", "content": "In one sentence, why is the sky blue?"}]
        print("user> " + messages[0]["content"])
        print("grok> ", end="", flush=True)
        usage = None
        for chunk in client.stream_chat_completion(
            messages, stream_options={"include_usage": True}
        ):
            for choice in chunk.get("choices", []):
                print(choice.get("delta", {}).get("content") or "", end="", flush=True)
            usage = chunk.get("usage", usage)
        print()
        if usage:
            print(
                f"\n[usage] input={usage.get('prompt_tokens')} "
                f"output={usage.get('completion_tokens')} "
                f"cost_in_usd_ticks={usage.get('cost_in_usd_ticks')}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
