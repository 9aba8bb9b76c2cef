"""The moderation service in process (httpx on the ASGI app): batching, cascade, backpressure,
deadlines, the batch endpoint, limits and metrics. Models are the engine's counting fakes."""

from __future__ import annotations

import asyncio
import base64
import io
import threading

import httpx
import pytest

from moderation.engine.evaluate import evaluate_batch
from moderation.engine.inputs import Item
from moderation.fleet.batching import CASCADED, NOT_NEEDED, BatchSettings, StageSettings
from moderation.fleet.service import ModerationService, ServiceSettings
from tests.moderation.engine.conftest import FakeModels, FakeTextEncoder, build_bundle, solid

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


class GatedTextEncoder(FakeTextEncoder):
    """Blocks in encode() until `gate` is set, so tests can hold a batch in the engine."""

    def __init__(self) -> None:
        super().__init__()
        self.gate, self.entered = threading.Event(), threading.Event()
        self.gate.set()

    def encode(self, texts):
        self.entered.set()
        assert self.gate.wait(10), "the test never opened the gate"
        return super().encode(texts)


@pytest.fixture
def models():
    # Overrides the fleet conftest's `models`: the agent runs the engine's counting fakes.
    return FakeModels(text=GatedTextEncoder())


@pytest.fixture
def live_agent(fleet, make_agent, models):
    """An agent with v3 of the engine's full test bundle active (every rule kind)."""

    def build(**overrides):
        bundle = build_bundle(models, **overrides)
        fleet.publish(bundle)
        agent = make_agent()
        assert agent.poll_once().changed
        for counted in (models.text, models.image, *models._scorers):
            counted.calls.clear()
        return agent

    return build


@pytest.fixture
def serve():
    """Return a factory of (service, client) on an agent; services are stopped afterwards."""
    started = []

    def build(agent, **settings):
        batch = settings.pop("batch", None) or BatchSettings(
            stages=dict.fromkeys(("prompt", "image", "concepts"), StageSettings(64, 50.0))
        )
        service = ModerationService(agent, ServiceSettings(batch=batch, **settings))
        service.start()
        started.append(service)
        transport = httpx.ASGITransport(app=service.app)
        return service, httpx.AsyncClient(transport=transport, base_url="http://agent")

    yield build
    for service in started:
        service.stop()


def png_b64(rgb) -> str:
    buffer = io.BytesIO()
    solid(rgb).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def rounded(value):
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return value


def comparable(body_or_decision):
    d = body_or_decision if isinstance(body_or_decision, dict) else body_or_decision.as_dict()
    return d["action"], rounded(d["results"]), d["calibrated"]


REQUESTS = [
    ("a cat on a sofa", (10, 200, 10)),
    ("naked people", None),
    ("buy illegal guns online", (250, 10, 10)),
    (None, (240, 240, 240)),
    ("people at the beach", (120, 10, 10)),
    ("acme rival shoes", None),
] * 3


def payload(prompt, rgb, **extra):
    body = {"prompt": prompt, **extra}
    if rgb is not None:
        body["image_base64"] = png_b64(rgb)
    return body


async def test_concurrent_requests_share_engine_calls_with_one_by_one_decisions(
    live_agent, serve, models
):
    agent = live_agent()
    service, client = serve(agent)
    async with client:
        answers = await asyncio.gather(
            *(client.post("/v1/check", json=payload(p, c, all_scores=True)) for p, c in REQUESTS)
        )
    text_calls, image_calls = len(models.text.calls), len(models.image.calls)
    scorer_calls = sum(len(s.calls) for s in models._scorers)

    items = [Item(p, solid(c) if c else None) for p, c in REQUESTS]
    alone = [evaluate_batch(agent.active.compiled, [it], models=models)[0] for it in items]

    assert [a.status_code for a in answers] == [200] * len(REQUESTS)
    # Identical decisions; scores agree to float32 rounding (a matrix product's last bits
    # depend on the batch's shape, in evaluate_batch as much as here).
    assert [comparable(a.json()) for a in answers] == [comparable(d) for d in alone]
    # 18 requests, each needing the text encoder, the scorers or the image encoder:
    assert text_calls < len(REQUESTS)
    assert image_calls < len(REQUESTS)
    assert scorer_calls < 2 * len(REQUESTS)
    assert answers[2].json()["stages"] == {"prompt": "ran", "image": "ran", "concepts": "ran"}
    assert answers[1].json()["stages"]["image"] == NOT_NEEDED


async def test_a_blocked_prompt_skips_the_image_models_unless_all_scores(live_agent, serve, models):
    agent = live_agent()
    _, client = serve(agent)
    async with client:
        cascaded = (await client.post("/v1/check", json=payload("sex", (250, 0, 0)))).json()
        assert models.image.calls == []
        assert all(s.calls == [] for s in models._scorers if s.modality == "image")
        full = await client.post("/v1/check", json=payload("sex", (250, 0, 0), all_scores=True))

    assert cascaded["action"] == full.json()["action"] == "block"
    assert cascaded["stages"] == {"prompt": "ran", "image": CASCADED, "concepts": CASCADED}
    assert {r["modality"] for r in cascaded["results"]} == {"prompt"}
    assert full.json()["stages"] == {"prompt": "ran", "image": "ran", "concepts": "ran"}
    assert "image" in {r["modality"] for r in full.json()["results"]}


async def test_a_full_queue_is_429_with_retry_after(live_agent, serve, models):
    agent = live_agent()
    batch = BatchSettings(stages=dict.fromkeys(("prompt", "image", "concepts"),
                                               StageSettings(1, 0.0)), max_queue=2)  # fmt: skip
    service, client = serve(agent, batch=batch)
    models.text.gate.clear()
    async with client:
        held = [asyncio.create_task(client.post("/v1/check", json={"prompt": f"p{i}"}))
                for i in range(2)]  # fmt: skip
        while service.batcher.in_flight < 2:
            await asyncio.sleep(0.01)
        refused = await client.post("/v1/check", json={"prompt": "one too many"})
        ready = await client.get("/readyz")
        models.text.gate.set()
        done = await asyncio.gather(*held)
        metrics = (await client.get("/metrics")).text

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    body = refused.json()
    assert body["reason"] == "overloaded"
    assert "queue limit" in body["message"]
    assert body["failure_mode"] == "closed"
    assert ready.status_code == 503
    assert "queue is full" in ready.json()["message"]
    assert [d.status_code for d in done] == [200, 200]
    assert 'moderation_agent_rejections_total{reason="overloaded"} 1.0' in metrics


async def test_a_request_past_its_deadline_is_503_and_never_evaluated(live_agent, serve, models):
    agent = live_agent()
    seen = []
    agent.observers.append(lambda served: seen.extend(s.request_id for s in served))
    batch = BatchSettings(stages=dict.fromkeys(("prompt", "image", "concepts"),
                                               StageSettings(1, 0.0)))  # fmt: skip
    service, client = serve(agent, batch=batch)
    models.text.gate.clear()
    async with client:
        first = asyncio.create_task(
            client.post("/v1/check", json={"prompt": "first"}, headers={"X-Request-Id": "a"})
        )
        await asyncio.to_thread(models.text.entered.wait, 5)
        late = asyncio.create_task(client.post(
            "/v1/check", json={"prompt": "late"},
            headers={"X-Request-Id": "b", "X-Deadline-Ms": "30"},
        ))  # fmt: skip
        await asyncio.sleep(0.2)
        models.text.gate.set()
        first, late = await first, await late
        metrics = (await client.get("/metrics")).text

    assert first.status_code == 200
    assert first.headers["X-Request-Id"] == "a"
    assert late.status_code == 503
    assert late.json()["reason"] == "deadline"
    assert "deadline of 30 ms passed" in late.json()["message"]
    assert seen == ["a"]  # the late one reached no observer: no decision was made
    assert all(call != ["late"] for call in models.text.calls)
    assert 'moderation_agent_rejections_total{reason="deadline"} 1.0' in metrics


async def test_deadline_field_and_header_are_checked(live_agent, serve):
    _, client = serve(live_agent())
    async with client:
        bad_field = await client.post("/v1/check", json={"prompt": "x", "deadline_ms": -5})
        bad_header = await client.post(
            "/v1/check", json={"prompt": "x"}, headers={"X-Deadline-Ms": "soon"}
        )
    assert bad_field.status_code == 400
    assert "deadline_ms must be" in bad_field.json()["message"]
    assert bad_header.status_code == 400
    assert "X-Deadline-Ms" in bad_header.json()["message"]


async def test_batch_endpoint_answers_in_order_with_one_request_id_per_item(live_agent, serve):
    agent = live_agent()
    seen = []
    agent.observers.append(lambda served: seen.extend(s.request_id for s in served))
    _, client = serve(agent)
    items = [payload("sex", None), payload("a cat", (10, 200, 10)), payload(None, (160, 10, 10))]
    async with client:
        answer = await client.post(
            "/v1/check/batch", json={"items": items}, headers={"X-Request-Id": "r1"}
        )

    assert answer.status_code == 200
    body = answer.json()
    assert [r["action"] for r in body["results"]] == ["block", "allow", "review"]
    assert body["request_id"] == "r1"
    assert body["failure_mode"] == "closed"
    assert sorted(seen) == ["r1#0", "r1#1", "r1#2"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"items": []}, "items has 0 entries; send 1 to 4"),
        ({"items": [{"prompt": "x"}] * 5}, "items has 5 entries; send 1 to 4"),
        ({"items": "x"}, "items must be a list"),
        ({"items": [{"prompt": "x"}], "colour": 1}, "unknown field 'colour'"),
        ({"items": [{"prompt": "x"}, {"image_base64": "%%%"}]},
         "items[1]: image_base64: not valid"),
        ({"items": [{"prompt": "x"}, {"prompt": "y"},
                    {"image_base64": base64.b64encode(b"GIF89a broken").decode()}]}, "items[2]: "),
        ({"items": [{"prompt": "x"}, {}]}, "items[1]: nothing to check"),
        ({"items": [{"prompt": 3}]}, "items[0]: prompt must be a string"),
    ],
)  # fmt: skip
async def test_batch_endpoint_errors_name_the_item(live_agent, serve, body, message):
    _, client = serve(live_agent(), max_batch_items=4)
    async with client:
        answer = await client.post("/v1/check/batch", json=body)
    assert answer.status_code == 400
    assert message in answer.json()["message"]


async def test_oversized_bodies_are_413_by_header_or_by_stream(live_agent, serve):
    _, client = serve(live_agent(), max_body_bytes=1000)

    async def chunks():
        for _ in range(20):
            yield b" " * 100

    async with client:
        declared = await client.post("/v1/check", json={"prompt": "x" * 2000})
        streamed = await client.post("/v1/check", content=chunks())
        small = await client.post("/v1/check", json={"prompt": "x" * 100})

    assert declared.status_code == streamed.status_code == 413
    assert "over 1000 bytes" in streamed.json()["message"]
    assert small.status_code == 200


async def test_health_and_answers_carry_the_bundles_failure_mode(live_agent, serve):
    _, client = serve(live_agent(failure_mode="open"))
    async with client:
        health = (await client.get("/healthz")).json()
        answer = (await client.post("/v1/check", json={"prompt": "hello"})).json()
        ready = await client.get("/readyz")
    assert health["failure_mode"] == answer["failure_mode"] == "open"
    assert ready.status_code == 200


async def test_readyz_is_503_without_a_bundle(make_agent, serve):
    _, client = serve(make_agent())
    async with client:
        ready = await client.get("/readyz")
        check = await client.post("/v1/check", json={"prompt": "x"})
    assert ready.status_code == 503
    assert "no bundle" in ready.json()["message"]
    assert check.status_code == 503
    assert check.json()["reason"] == "no_bundle"
    assert "failure_mode" not in check.json()


async def test_metrics_expose_queue_batches_stages_decisions_and_bundle(live_agent, serve):
    agent = live_agent()
    _, client = serve(agent)
    async with client:
        await asyncio.gather(*(client.post("/v1/check", json=payload(p, c)) for p, c in REQUESTS))
        await client.post("/v1/check", json={})
        text = (await client.get("/metrics")).text

    sha = agent.active.sha256
    for line in (
        'moderation_agent_queue_depth{stage="prompt"} 0.0',
        "moderation_agent_in_flight 0.0",
        'moderation_agent_batch_size_count{stage="prompt"}',
        'moderation_agent_batch_size_bucket{le="1.0",stage="prompt"}',
        'moderation_agent_stage_seconds_count{stage="image"}',
        'moderation_agent_request_seconds_count{endpoint="check"} 18.0',
        'moderation_agent_decisions_total{action="block"}',
        'moderation_agent_rejections_total{reason="bad_request"} 1.0',
        f'moderation_agent_bundle_version{{channel="production",failure_mode="closed",'
        f'policy="default",sha256="{sha}"}} 3.0',
    ):
        assert line in text, line
    decided = sum(
        float(row.rsplit(" ", 1)[1])
        for row in text.splitlines()
        if row.startswith("moderation_agent_decisions_total{")
    )
    assert decided == len(REQUESTS)


async def test_the_service_conditions_each_requests_image_on_its_own_prompt(
    live_agent, serve, models
):
    from moderation.engine.bundle import Condition, ConditionalRule, ConditionThreshold

    rule = ConditionalRule(
        "cond-brands", "Brand signal", Condition("keyword_set", rule="kw-brands"),
        (ConditionThreshold("nudity", 0.2, 0.3),),
    )  # fmt: skip
    agent = live_agent(conditions=(rule,))
    _, client = serve(agent)
    requests = [("acme rival toys", (80, 0, 255)), ("a cat", (80, 0, 255))] * 4
    async with client:
        answers = await asyncio.gather(
            *(client.post("/v1/check", json=payload(p, c)) for p, c in requests)
        )
    alone = [
        evaluate_batch(agent.active.compiled, [Item(p, solid(c))], models=models)[0]
        for p, c in requests
    ]
    assert [comparable(a.json()) for a in answers] == [comparable(d) for d in alone]
    assert [a.json()["action"] for a in answers[:2]] == ["block", "allow"]
    [image] = [r for r in answers[0].json()["results"]
               if r["kind"] == "category" and r["modality"] == "image"]  # fmt: skip
    assert image["explanation"]["condition"]["block_at"] == {"from": 0.8, "to": 0.3}
