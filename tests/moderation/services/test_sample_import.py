"""Importing labelled sample archives: good rows land, bad rows are reported one by one."""

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from kernel.errors import ApplicationError, ConflictError
from moderation.models import Sample
from moderation.services import manifest
from moderation.services.samples import sample_set_create, sample_set_import, sample_update_labels
from tests.images import png_bytes
from tests.moderation.factories import SampleFactory, SampleSetFactory, archive

pytestmark = pytest.mark.usefixtures("media")


@pytest.fixture
def sample_set(tenant):
    return SampleSetFactory(tenant=tenant, name="client samples")


BOMB_ROW = {"id": "b", "image": "bomb.png", "expected_action": "allow"}


def run_import(sample_set, data, name="samples.zip"):
    return sample_set_import(sample_set=sample_set, actor=None, file_name=name, data=data)


def test_good_rows_land_and_each_bad_row_is_reported(sample_set, media):
    rows = [
        {"id": "ok-1", "prompt": "a cat", "expected_action": "allow", "tags": ["pets"]},
        {
            "id": "ok-2",
            "image": "img/red.png",
            "expected_action": "block",
            "expected_categories": ["violence"],
        },
        {"id": "bad-action", "prompt": "x", "expected_action": "ban"},
        {
            "id": "bad-cat",
            "prompt": "y",
            "expected_action": "flag",
            "expected_categories": ["nope"],
        },
        {"id": "escape", "image": "../../etc/passwd", "expected_action": "allow"},
        {"id": "broken", "image": "img/broken.png", "expected_action": "allow"},
        {"id": "missing", "image": "img/none.png", "expected_action": "allow"},
        {"id": "dup", "prompt": "a cat", "expected_action": "allow"},
        {"prompt": "no id", "expected_action": "allow"},
    ]
    files = {"img/red.png": png_bytes(), "img/broken.png": png_bytes()[:40]}
    report = run_import(sample_set, archive(rows, files))

    assert report.imported == 2
    reasons = {e["id"]: e["error"] for e in report.errors}
    assert "not one of allow, flag, review, block" in reasons["bad-action"]
    assert "unknown category nope" in reasons["bad-cat"]
    assert "outside the archive" in reasons["escape"]
    assert "broken.png" in reasons["broken"]
    assert "no file 'img/none.png'" in reasons["missing"]
    assert "duplicate of sample ok-1" in reasons["dup"]
    assert "missing field id" in reasons[""]
    stored = Sample.objects.get(external_id="ok-2")
    assert Path(stored.image.path).resolve().is_relative_to(Path(media).resolve())
    assert stored.expected_categories == ["violence"]
    assert Sample.objects.get(external_id="ok-1").tags == ["pets"]


def test_csv_manifest_splits_lists_and_reports_short_rows(sample_set):
    text = (
        "id,prompt,expected_action,expected_categories,tags\n"
        "a,knife fight,block,violence;weapons,edge|2024\n"
        "b,short row\n"
    )
    report = run_import(sample_set, archive(text, kind="csv"))
    assert report.imported == 1
    sample = Sample.objects.get(external_id="a")
    assert sample.expected_categories == ["violence", "weapons"]
    assert sample.tags == ["edge", "2024"]
    assert report.errors == [
        {"row": 3, "id": "", "error": "the row's number of fields differs from the header"}
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("id,prompt\n", "missing column expected_action"),
        ("id,prompt,expected_action,colour\n", "unknown column colour"),
    ],
)
def test_a_header_with_wrong_columns_refuses_the_file_and_writes_nothing(
    sample_set, header, message
):
    with pytest.raises(ApplicationError, match=message):
        run_import(sample_set, (header + "a,b,allow\n").encode(), name="m.csv")
    assert not Sample.objects.exists()


def test_a_zip_bomb_member_is_refused_without_unpacking_it(sample_set, monkeypatch):
    monkeypatch.setattr(manifest, "MAX_MEMBER_BYTES", 1_000_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "manifest.jsonl", '{"id": "b", "image": "bomb.png", "expected_action": "allow"}'
        )
        zf.writestr("bomb.png", b"\0" * 5_000_000)
    report = run_import(sample_set, buffer.getvalue())
    assert report.imported == 0
    assert "bomb.png" in report.errors[0]["error"]
    assert "unpacked" in report.errors[0]["error"] or "zip bomb" in report.errors[0]["error"]


@pytest.mark.parametrize("name", ["../x.png", "/etc/x.png", "a/../../x.png", "a\\..\\x.png"])
def test_member_names_that_escape_the_archive_are_refused(name):
    with pytest.raises(ValueError, match="outside the archive|not a relative path"):
        manifest.safe_member_name(name)


def test_not_a_zip_and_no_manifest_are_file_level_errors(sample_set):
    with pytest.raises(ApplicationError, match="not a readable zip"):
        run_import(sample_set, b"hello")
    with pytest.raises(ApplicationError, match="exactly one manifest"):
        run_import(sample_set, archive([], kind="none"))


def test_bare_jsonl_imports_prompts_and_refuses_images(sample_set):
    data = "\n".join(
        [
            json.dumps({"id": "p", "prompt": "hi", "expected_action": "allow"}),
            json.dumps({"id": "q", "image": "a.png", "expected_action": "allow"}),
            "not json",
        ]
    ).encode()
    report = run_import(sample_set, data, name="samples.jsonl")
    assert report.imported == 1
    assert [e["row"] for e in report.errors] == [2, 3]
    assert "need a zip archive" in report.errors[0]["error"]


def test_set_names_are_unique_per_tenant(tenant, other_tenant):
    sample_set_create(tenant=tenant, actor=None, name="golden")
    sample_set_create(tenant=other_tenant, actor=None, name="golden")
    with pytest.raises(ConflictError, match="already exists"):
        sample_set_create(tenant=tenant, actor=None, name=" golden ")


def test_editing_labels_updates_filters_and_refuses_unknown_labels(sample_set):
    sample = SampleFactory(sample_set=sample_set)
    sample_update_labels(
        sample=sample, expected_action="review", expected_categories=["hate"], tags=["x"]
    )
    assert sample_set.samples.filter(search_keys__contains=" cat:hate ").count() == 1
    with pytest.raises(ApplicationError, match="Unknown category"):
        sample_update_labels(
            sample=sample, expected_action="review", expected_categories=["hat"], tags=[]
        )


def test_error_report_rows_round_trip_as_csv(sample_set):
    report = run_import(sample_set, archive([{"id": "x", "prompt": "p", "expected_action": "nah"}]))
    from moderation.selectors.runs import sample_import_error_csv

    lines = list(csv.reader(io.StringIO(sample_import_error_csv(report))))
    assert lines[0] == ["row", "id", "error"]
    assert lines[1][:2] == ["1", "x"]
