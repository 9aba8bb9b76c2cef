"""The live console's view of image text: boxes, matched boxes, marked words, prompt untouched."""

from moderation.views.image_text import word_points
from moderation.views.presenters import decision_view

BOX = [[10, 20], [190, 20], [190, 50], [10, 50]]


def image_keyword(fired=True):
    read = {
        "text": "play at the casino\ntonight",
        "boxes": [
            {"points": BOX, "rect": [10, 20, 190, 50], "text": "play at the casino",
             "confidence": 0.99},
            {"points": [[10, 60], [80, 60], [80, 90], [10, 90]], "rect": [10, 60, 80, 90],
             "text": "tonight", "confidence": 0.97},
        ],
        "size": [200, 100],
    }  # fmt: skip
    matches = [
        {"term": "casino", "span": [12, 18], "text": "casino", "box": 0, "box_span": [12, 18]}
    ]
    return {
        "kind": "keyword", "rule_id": "keywords:1", "rule_name": "Gambling", "modality": "image",
        "action": "block", "fired": fired, "score": 1.0, "threshold": None,
        "explanation": {"match_count": 1, "matches": matches if fired else [],
                        "source": "image_text", "image_text": read},
    }  # fmt: skip


def decision(*results):
    return {"action": "block", "results": list(results), "timings_ms": {}, "calibrated": True}


def test_boxes_and_the_matched_word_are_shaped_for_drawing():
    view = decision_view(decision(image_keyword()), prompt="casino night", image="p.png")
    it = view.image_text
    assert (it.width, it.height) == (200, 100)
    assert [(b.matched, b.points) for b in it.boxes] == [
        (True, "10,20 190,20 190,50 10,50"),
        (False, "10,60 80,60 80,90 10,90"),
    ]
    assert [(s.text, s.term) for s in it.lines[0]] == [("play at the ", ""), ("casino", "casino")]
    assert it.words == [word_points(BOX, 12, 18, 18)]
    # Spans of image text never mark the prompt.
    assert [s.term for s in view.prompt_segments] == [""]


def test_word_points_take_the_characters_share_of_the_box():
    assert word_points(BOX, 9, 18, 18) == "100.0,20.0 190.0,20.0 190.0,50.0 100.0,50.0"


def test_a_rule_that_did_not_fire_marks_nothing_but_boxes_are_drawn():
    it = decision_view(decision(image_keyword(fired=False)), prompt="", image="p.png").image_text
    assert [b.matched for b in it.boxes] == [False, False]
    assert it.words == []


def test_no_image_text_rule_no_view():
    prompt_rule = {**image_keyword(), "modality": "prompt", "explanation": {"matches": []}}
    assert decision_view(decision(prompt_rule), prompt="x", image=None).image_text is None
