"""`make demo`: a streaming chat, a tool-using agent, structured output and server-side search."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import agent
import quickstart
import search_agent
import structured_output

from langchain_grok import get_grok_callback


def main() -> int:
    # Every request below is counted: tokens and the exact cost xAI billed. Offline, the
    # emulator bills its token counts at grok-4.3's prices, plus the search tool's fee.
    with get_grok_callback() as cost:
        for title, run in (
            ("1. Chat: invoke, streaming, LCEL", quickstart.main),
            ("2. Agent with tools", agent.main),
            ("3. Structured output", structured_output.main),
            ("4. Server-side web search with citations (Responses API)", search_agent.main),
        ):
            print(f"\n######## {title}\n")
            run()
    print(f"\n######## What the demo cost\n\n{cost}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
