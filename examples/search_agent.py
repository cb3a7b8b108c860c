"""An agent that answers with xAI's server-side web and X search, and cites its sources.

The searches run on xAI's servers (Responses API): they come back as `server_tool_call` /
`server_tool_result` content blocks and citations, never as tool calls the agent must run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from langchain.agents import create_agent

sys.path.insert(0, str(Path(__file__).parent))
from _backend import grok_backend


def main() -> None:
    with grok_backend(model="grok-4.3") as (model, server):
        if server is not None:
            from langchain_grok.testing import web_search_reply

            # Offline, the emulator plays the model and the search engine from a script.
            server.script(
                web_search_reply(
                    "Ruby 4.0.6 is the latest stable release. It shipped in July 2026.",
                    query="latest stable Ruby version",
                    sources=[
                        "https://www.ruby-lang.org/en/downloads/",
                        "https://github.com/ruby/ruby/releases",
                    ],
                )
            )
        agent = create_agent(
            model,
            tools=[{"type": "web_search"}, {"type": "x_search"}],
            system_prompt="Cite sources.",
        )
        question = "What is the latest stable Ruby version?"
        print(f"user> {question}")
        inputs: Any = {"messages": [("user", question)]}
        answer = agent.invoke(inputs)["messages"][-1]
        for block in answer.content_blocks:
            if block["type"] == "server_tool_call":
                print(f"[xAI ran {block['name']}] {block['args']}")
            elif block["type"] == "text":
                print(f"grok> {block['text']}")
                for citation in block.get("annotations", []):
                    print(f"   cited: {citation.get('url')}")
        print(f"[sources] {answer.additional_kwargs.get('citations')}")


if __name__ == "__main__":
    main()
