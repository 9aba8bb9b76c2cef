"""Shaping what the OCR read in an image for the live console: boxes to draw, lines to mark."""

from dataclasses import dataclass, field

IMAGE_TEXT = "image_text"


@dataclass
class TextBoxView:
    index: int
    points: str  # SVG polygon points, in the original image's pixels
    text: str
    confidence: float
    matched: bool


@dataclass
class ImageTextView:
    """The recognised text of one image, its boxes and which of them a keyword matched."""

    width: int
    height: int
    boxes: list[TextBoxView]
    lines: list[list] = field(default_factory=list)  # per box: presenters.Segment list
    # Where each matched word lies in its box, estimated from its share of the line's
    # characters (the OCR gives line boxes, not word boxes).
    words: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.boxes)


def image_text_rules(rules: list[dict]) -> list[dict]:
    """The results of rules judged on image text (their explanation says so)."""
    return [r for r in rules if r["explanation"].get("source") == IMAGE_TEXT]


def image_text_view(rules: list[dict], segment) -> ImageTextView | None:
    """What the OCR read, from the first image-text result; None when no rule read image text.

    `segment(text, spans)` cuts a line into plain and marked segments (presenters.split).
    """
    read_by = image_text_rules(rules)
    if not read_by:
        return None
    read = read_by[0]["explanation"]["image_text"]
    spans: dict[int, list] = {}
    for rule in read_by:
        if rule["kind"] != "keyword" or not rule["fired"]:
            continue
        for match in rule["explanation"].get("matches", []):
            start, end = match["box_span"]
            spans.setdefault(match["box"], []).append((start, end, match["term"]))
    boxes = [
        TextBoxView(
            index=i,
            points=" ".join(f"{x:g},{y:g}" for x, y in box["points"]),
            text=box["text"],
            confidence=box["confidence"],
            matched=i in spans,
        )
        for i, box in enumerate(read["boxes"])
    ]
    width, height = read["size"]
    lines = [segment(b.text, sorted(spans.get(b.index, []))) for b in boxes]
    words = [
        word_points(read["boxes"][i]["points"], start, end, len(boxes[i].text))
        for i, found in sorted(spans.items())
        for start, end, _ in found
    ]
    return ImageTextView(width=width, height=height, boxes=boxes, lines=lines, words=words)


def word_points(corners: list, start: int, end: int, length: int) -> str:
    """SVG points of the part of a line box holding characters start..end of `length`."""
    (tl, tr, br, bl), a, b = corners, start / max(length, 1), end / max(length, 1)

    def along(p, q, t):
        return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)

    quad = (along(tl, tr, a), along(tl, tr, b), along(bl, br, b), along(bl, br, a))
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in quad)
