"""Token counting and the model catalog against api.x.ai (shapes the emulator imitates)."""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage

from langchain_grok import AsyncXAIClient, ChatGrok, XAIClient


def test_tokenize_text_shape() -> None:
    with XAIClient() as client:
        answer = client.tokenize_text("Hello, world!", model="grok-4.3")
    tokens = answer["token_ids"]
    assert tokens
    assert {"token_id", "string_token", "token_bytes"} <= set(tokens[0])
    assert bytes(b for t in tokens for b in t["token_bytes"]).decode() == "Hello, world!"


async def test_counts_sync_and_async_agree() -> None:
    model = ChatGrok(model="grok-4.3")
    messages = [SystemMessage("Be terse."), HumanMessage("What is a token?")]
    count = model.get_num_tokens_from_messages(messages)
    assert count > 0
    assert await model.aget_num_tokens_from_messages(messages) == count
    reply = await model.ainvoke(messages)
    assert reply.usage_metadata is not None
    # The server adds the chat template's framing tokens, which the count leaves out.
    assert reply.usage_metadata["input_tokens"] >= count


def test_language_model_catalog_and_refresh() -> None:
    with XAIClient() as client:
        listed = client.list_language_models()["models"]
    assert any(m.get("id", "").startswith("grok-") for m in listed)
    model = ChatGrok(model="grok-4.3")
    profile = model.refresh_profile()
    assert profile["max_input_tokens"] == 1_000_000  # kept from the offline table
    assert model.prices is not None
    assert model.prices.input is not None
    assert model.prices.input > 0


async def test_async_retrieve_language_model() -> None:
    async with AsyncXAIClient() as client:
        entry = await client.retrieve_language_model("grok-4.3")
    assert entry["id"].startswith("grok-4.3")
