"""The agent's service judges text in images in its image stage, one OCR call per batch.

The OCR is the real PP-OCR (about a second per image on one core); the other models
are the engine's counting fakes.
"""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from moderation.engine.bundle import Bundle, KeywordSet, MatchOptions, PolicyInfo
from moderation.engine.decision import Action
from moderation.engine.models.ocr import OcrReader
from moderation.fleet.batching import BatchSettings, StageSettings
from moderation.fleet.service import ModerationService, ServiceSettings
from tests.images import text_png_bytes
from tests.moderation.engine.ocr_fakes import OcrModels

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


class CountingReader(OcrReader):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def read(self, images):
        self.calls.append(len(images))
        return super().read(images)


@pytest.fixture
def models():
    # Overrides the fleet conftest's `models`: fakes, with the real OCR.
    provider = OcrModels()
    provider.reader = CountingReader()
    return provider


def b64(lines) -> str:
    return base64.b64encode(text_png_bytes(lines, size=(480, 160))).decode()


async def test_image_text_is_read_once_per_image_in_the_image_stage(fleet, make_agent, models):
    ks = KeywordSet("kw-gambling", "Gambling", Action.BLOCK, ("casino",), (), MatchOptions(),
                    applies_to="image_text")  # fmt: skip
    fleet.publish(Bundle.create(policy=PolicyInfo("acme", "default", "Default", 3, 3),
                                pins=models.pins(), keyword_sets=(ks,)))  # fmt: skip
    agent = make_agent()
    assert agent.poll_once().changed
    batch = BatchSettings(stages=dict.fromkeys(("prompt", "image", "concepts"),
                                               StageSettings(64, 400.0)))  # fmt: skip
    service = ModerationService(agent, ServiceSettings(batch=batch))
    service.start()
    try:
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agent") as client:
            answers = await asyncio.gather(
                client.post("/v1/check", json={"image_base64": b64(["the casino"])}),
                client.post("/v1/check", json={"image_base64": b64(["the bakery"])}),
                client.post("/v1/check", json={"prompt": "the casino"}),
            )
    finally:
        service.stop()
    bodies = [a.json() for a in answers]
    assert [b["action"] for b in bodies] == ["block", "allow", "allow"]
    assert bodies[0]["stages"]["image"] == "ran"
    assert bodies[0]["results"][0]["explanation"]["matches"][0]["box"] == 0
    # Each image read once; the two usually share one call (the stage waits 400 ms for
    # company), which evaluate_batch's tests check exactly.
    assert sum(models.reader.calls) == 2


def test_an_agent_without_ocr_refuses_the_bundle_naming_the_pin(fleet, make_agent, models):
    ks = KeywordSet("kw-gambling", "Gambling", Action.BLOCK, ("casino",), (), MatchOptions(),
                    applies_to="both")  # fmt: skip
    fleet.publish(Bundle.create(policy=PolicyInfo("acme", "default", "Default", 3, 3),
                                pins=models.pins(), keyword_sets=(ks,)))  # fmt: skip
    models.reader = None
    models.pins = lambda: {n: p for n, p in OcrModels().pins().items() if n != "ocr"}
    agent = make_agent()
    result = agent.poll_once()
    assert result.refused.reason == "pin_mismatch"
    assert "'ocr'" in result.refused.message
    assert agent.active is None
