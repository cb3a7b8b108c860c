"""The Batch API against api.x.ai: the shapes the emulator and `GrokBatch` assume.

The paths and fields were confirmed from xAI's own docs and SDKs, but no recording exists, so
these tests would catch the client and the emulator agreeing with each other but not with xAI.
A batch takes up to 24 h to run, so they check submission, status, the per-item view and
cancellation; the finished-results path is covered offline (tests/test_batch.py).
"""

from __future__ import annotations

from langchain_grok import BatchItemError, ChatGrok, GrokBatch, XAIClient


def test_submit_status_results_and_cancel() -> None:
    batch = GrokBatch(ChatGrok(model="grok-4.3", temperature=0, max_tokens=16))
    batch_id = batch.submit(["Reply with: one", "Reply with: two"], name="langchain-grok-live")
    status = batch.status(batch_id)
    assert status.batch_id == batch_id
    assert status.total == 2
    results = batch.results(batch_id)  # in input order, whatever is finished or not
    assert len(results) == 2
    for item in results:
        assert isinstance(item, BatchItemError) or item.response_metadata["model_provider"] == "xai"
    cancelled = batch.cancel(batch_id)
    assert cancelled.batch_id == batch_id
    with XAIClient() as client:
        listed = [b["batch_id"] for b in client.list_batches(limit=100).get("batches", [])]
        ids = [r["batch_request_id"] for r in client.iter_batch_requests(batch_id)]
    assert batch_id in listed
    assert len(ids) == 2  # both requests were added, under ids that encode their position
    assert all(i.startswith("lc-") for i in ids)


async def test_async_create_and_cancel() -> None:
    batch = GrokBatch(ChatGrok(model="grok-4.3"))
    batch_id = await batch.acreate("langchain-grok-live-async")
    status = await batch.astatus(batch_id)
    assert status.total == 0
    await batch.acancel(batch_id)
