"""A tool-using agent built with LangChain's `create_agent`, streaming its steps."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.tools import tool

sys.path.insert(0, str(Path(__file__).parent))
from _backend import grok_backend


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return {"paris": "18°C, light rain", "rome": "24°C, sunny"}.get(city.lower(), "unknown")


@tool
def convert_c_to_f(celsius: float) -> float:
    """Convert Celsius to Fahrenheit."""
    return round(celsius * 9 / 5 + 32, 1)


def main() -> None:
    with grok_backend(model="grok-4.3") as (model, server):
        if server is not None:
            from langchain_grok.testing import ScriptedReply, text_reply

            # Offline, the emulator plays the model's part of the loop from a script.
            server.script(
                ScriptedReply(
                    tool_calls=[
                        {"name": "get_weather", "arguments": {"city": "Paris"}},
                        {"name": "get_weather", "arguments": {"city": "Rome"}},
                    ]
                ),
                ScriptedReply(
                    tool_calls=[{"name": "convert_c_to_f", "arguments": {"celsius": 24}}]
                ),
                text_reply("Rome is warmer: 24°C (75.2°F) and sunny; Paris has 18°C and rain."),
            )
        agent = create_agent(
            model,
            tools=[get_weather, convert_c_to_f],
            system_prompt="Use the tools. Answer in one sentence.",
        )
        question = "Which is warmer right now, Paris or Rome? Give the warmer one in Fahrenheit."
        print(f"user> {question}")
        inputs: Any = {"messages": [("user", question)]}
        for step in agent.stream(inputs, stream_mode="updates"):
            for node, update in step.items():
                for message in update.get("messages", []):
                    if getattr(message, "tool_calls", None):
                        for call in message.tool_calls:
                            print(f"[{node}] calls {call['name']}({call['args']})")
                    elif message.type == "tool":
                        print(f"[{node}] {message.name} -> {message.content}")
                    else:
                        print(f"[{node}] {message.content}")


if __name__ == "__main__":
    main()
