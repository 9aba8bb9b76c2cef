"""The batch filter: a manifest judged with one bundle, resumable, bad lines reported."""

from __future__ import annotations

import json

import pytest

from moderation.engine.evaluate import evaluate_batch
from moderation.engine.inputs import Item
from moderation.fleet.__main__ import main as fleet_main
from moderation.fleet.batch import main
from moderation.fleet.store import Persisted, StateStore
from tests.moderation.engine.conftest import FakeModels, FakeTextEncoder, build_bundle, solid


class FailingAfter(FakeTextEncoder):
    """Raises on the n-th encode call: a run that stops half-way."""

    def __init__(self, calls_ok: int) -> None:
        super().__init__()
        self.calls_ok = calls_ok

    def encode(self, texts):
        if len(self.calls) >= self.calls_ok:
            from moderation.engine.errors import ModelOutputError

            raise ModelOutputError("the text encoder crashed")
        return super().encode(texts)


@pytest.fixture
def models():
    return FakeModels()


@pytest.fixture
def bundle_file(tmp_path, models):
    bundle = build_bundle(models)
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle.to_bytes())
    models.text.calls.clear()
    return path, bundle


def write_manifest(path, lines):
    path.write_text("".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n"
                            for ln in lines), encoding="utf-8")  # fmt: skip


def results(out):
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_a_manifest_is_judged_with_counts_and_bad_lines_reported(tmp_path, bundle_file, models):
    path, bundle = bundle_file
    solid((250, 10, 10)).save(tmp_path / "red.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG broken")
    manifest, out = tmp_path / "items.jsonl", tmp_path / "out.jsonl"
    write_manifest(manifest, [
        {"id": "a", "prompt": "a cat on a sofa"},
        {"id": "b", "prompt": "sex"},
        {"id": "c", "image": "red.png"},
        "{not json",
        {"id": "d", "image": "broken.png"},
        {"id": "e", "image": "missing.png"},
        {"id": "f", "prompt": "x", "colour": 1},
        {"prompt": "acme rival shoes", "image": f"file://{tmp_path / 'red.png'}"},
        {"id": "a", "prompt": "again"},
    ])  # fmt: skip

    code = main(["--manifest", str(manifest), "--out", str(out), "--bundle", str(path),
                 "--batch-size", "3", "--no-progress"], models=models)  # fmt: skip

    assert code == 0
    rows = results(out)
    assert [r["line"] for r in rows] == list(range(1, 10))
    by_line = {r["line"]: r for r in rows}
    assert by_line[2]["action"] == "block"
    assert by_line[3]["decision"]["stamp"]["sha256"] == bundle.sha256
    expected = evaluate_batch(bundle, [Item("acme rival shoes", solid((250, 10, 10)))],
                              models=models)[0]  # fmt: skip
    assert by_line[8]["action"] == expected.action.value
    assert by_line[8]["key"] == "line:8"
    summary = json.loads((tmp_path / "out.jsonl.summary.json").read_text())
    assert summary["total"] == 9
    assert summary["invalid_count"] == 5
    assert sum(summary["actions"].values()) == 4
    reasons = {i["line"]: i["reason"] for i in summary["invalid"]}
    assert reasons[4].startswith("not JSON")
    assert "broken.png" in reasons[5]
    assert "missing.png does not exist" in reasons[6]
    assert "unknown field 'colour'" in reasons[7]
    assert reasons[9] == "duplicate id 'a'; ids must be unique"


def test_a_stopped_run_resumes_without_judging_an_item_twice(tmp_path, bundle_file):
    path, _ = bundle_file
    manifest, out = tmp_path / "items.jsonl", tmp_path / "out.jsonl"
    write_manifest(manifest, [{"id": str(i), "prompt": f"prompt number {i}"} for i in range(10)])
    args = ["--manifest", str(manifest), "--out", str(out), "--bundle", str(path),
            "--batch-size", "2", "--no-progress"]  # fmt: skip

    crashing = FakeModels(text=FailingAfter(calls_ok=2))
    assert main(args, models=crashing) == 1
    first = [r["id"] for r in results(out)]
    assert first == ["0", "1", "2", "3"]
    with out.open("a", encoding="utf-8") as handle:
        handle.write('{"key": "id:4", "li')  # killed mid-write

    again = FakeModels()
    assert main(args, models=again) == 0

    rows = results(out)
    assert [r["id"] for r in rows] == [str(i) for i in range(10)]
    judged = [t for call in again.text.calls for t in call if t.startswith("prompt number")]
    assert judged == [f"prompt number {i}" for i in range(4, 10)]
    summary = json.loads((tmp_path / "out.jsonl.summary.json").read_text())
    assert (summary["total"], summary["judged_now"], summary["skipped_done"]) == (10, 6, 4)


def test_the_agents_active_bundle_is_used_from_its_state_dir(tmp_path, bundle_file, models):
    _, bundle = bundle_file
    store = StateStore(tmp_path / "state")
    store.save(Persisted("default", "production", 3, bundle.sha256, "e", "", 0.0),
               bundle.to_bytes())  # fmt: skip
    manifest, out = tmp_path / "items.jsonl", tmp_path / "out.jsonl"
    write_manifest(manifest, [{"prompt": "sex"}])

    code = main(["--manifest", str(manifest), "--out", str(out), "--state-dir",
                 str(tmp_path / "state"), "--no-progress"], models=models)  # fmt: skip

    assert code == 0
    assert results(out)[0]["decision"]["stamp"]["sha256"] == bundle.sha256


def test_the_fleet_command_runs_batch_and_explains_what_is_missing(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FLEET_STATE_DIR", raising=False)
    code = fleet_main(["batch", "--manifest", str(tmp_path / "none.jsonl"), "--out",
                       str(tmp_path / "out.jsonl"), "--bundle", "x"])  # fmt: skip
    assert code == 1
    assert "none.jsonl: no such file" in capsys.readouterr().err
    (tmp_path / "items.jsonl").write_text("{}\n")
    assert fleet_main(["batch", "--manifest", str(tmp_path / "items.jsonl"), "--out",
                       str(tmp_path / "out.jsonl")]) == 1  # fmt: skip
    assert "give --bundle FILE or --state-dir" in capsys.readouterr().err
