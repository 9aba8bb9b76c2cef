"""Templates hold no executable inline code: behaviour lives in static/js, loaded with
{% static %}, so that a Content-Security-Policy can forbid inline scripts."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted([*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")])

_TAG_RE = re.compile(r"<[a-zA-Z][^>]*>")
_SCRIPT_RE = re.compile(r"<script\b([^>]*)>", re.I)
_SRC_RE = re.compile(r"\ssrc\s*=", re.I)
_TYPE_RE = re.compile(r"""\stype\s*=\s*["']?([^"'\s>]+)""", re.I)
# Data, not code: what json_script writes.
_DATA_TYPES = {"application/json"}
# An attribute may follow a template tag ({% if %}onsubmit=...), not only a space.
_HANDLER_RE = re.compile(
    r"""(?<![\w-])(?:on[a-z]+|hx-on[:\-][^\s=]*)\s*=|["']\s*javascript:""", re.I
)


def inline_code(markup: str) -> list[str]:
    """Return the tags of `markup` that carry code to run: a <script> without src (other than
    JSON data), an event handler attribute, or a javascript: URL."""
    found = []
    for match in _SCRIPT_RE.finditer(markup):
        kind = _TYPE_RE.search(match.group(1))
        data = kind is not None and kind.group(1).lower() in _DATA_TYPES
        if not _SRC_RE.search(match.group(1)) and not data:
            found.append(match.group())
    found.extend(tag for tag in _TAG_RE.findall(markup) if _HANDLER_RE.search(tag))
    return found


@pytest.mark.parametrize(
    "markup",
    [
        "<script>alert(1)</script>",
        '<script type="module">import "x"</script>',
        "<script defer>go()</script>",
        '<button onclick="window.print()">Print</button>',
        '<form method="post" onsubmit="return confirm(\'Sure?\')">',
        '<div hx-on:click="go()">',
        '<a href="javascript:go()">',
        "<form {% if token %}onsubmit=\"return confirm('Sure?')\"{% endif %}>",
    ],
)
def test_the_check_sees_inline_code(markup):
    assert inline_code(markup)


@pytest.mark.parametrize(
    "markup",
    [
        "<script src=\"{% static 'js/app.js' %}\" defer></script>",
        '<script id="data" type="application/json">{"a": 1}</script>',
        '<form method="post" data-confirm="Delete it?">',
        '<button type="button" data-print>Print</button>',
        "<p>Someone = one, and so on.</p>",
    ],
)
def test_the_check_lets_static_scripts_and_data_through(markup):
    assert not inline_code(markup)


def test_templates_are_found():
    assert len(TEMPLATES) > 50


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_holds_inline_code(path):
    assert inline_code(path.read_text()) == [], f"move it into a file under static/js/: {path}"
