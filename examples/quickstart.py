"""Quickstart: invoke, token streaming through a callback, and an LCEL chain."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

sys.path.insert(0, str(Path(__file__).parent))
from _backend import grok_backend


class PrintTokens(BaseCallbackHandler):
    """Print each token as the model produces it."""

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        print(token, end="", flush=True)


def main() -> None:
    with grok_backend(model="grok-4.3", temperature=0) as (model, _):
        print("== invoke")
        reply = model.invoke("In one sentence: why is the sky blue?")
        print(reply.content)
        usage: dict[str, Any] = dict(reply.usage_metadata or {})
        meta = reply.response_metadata
        print(
            f"   model={meta.get('model_name')} tokens in/out={usage.get('input_tokens')}/"
            f"{usage.get('output_tokens')} cost=${meta.get('cost_usd', 0):.6f}"
        )
        if reply.additional_kwargs.get("reasoning_content"):
            print(f"   reasoning: {reply.additional_kwargs['reasoning_content'].strip()}")

        print("\n== streaming through a callback")
        model.invoke(
            "Name three rivers in Europe.", config={"callbacks": [PrintTokens()]}, stream=True
        )
        print()

        print("\n== LCEL chain: prompt | ChatGrok | parser")
        prompt = ChatPromptTemplate.from_messages(
            [("system", "Answer in at most ten words."), ("human", "{question}")]
        )
        chain = prompt | model | StrOutputParser()
        print(chain.invoke({"question": "What is LangChain?"}))


if __name__ == "__main__":
    main()
