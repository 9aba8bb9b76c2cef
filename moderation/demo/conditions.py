"""The demo's paired prompts and images: the same image judged with and without a prompt signal.

Two suites on one small set, built through the real services: the first with the
demo policy's conditional rule switched off, the second with it on. Comparing them
(the suite page's impact preview) shows which samples it moved and which image
thresholds it changed.
"""

import io
import json
import random
import zipfile

from PIL import Image, ImageDraw, ImageFilter

from moderation.demo.samples import _suite
from moderation.models import SampleSet, TestRun
from moderation.services import samples
from policy_admin.demo.seed import MINOR_SIGNAL
from policy_admin.models import ConditionalRule
from policy_admin.services import conditions
from tenants.scoping import scoped

PAIRED_SET = "Demo paired prompts and images"
# (seed, skin tone) of two synthetic images that open_nsfw scores about 0.33 and 0.26:
# under the policy's image sexual review at 0.5, over the condition's 0.2.
IMAGES = {"blobs-a": (4, (200, 150, 120)), "blobs-b": (1, (200, 150, 120))}
PAIRS = [
    ("schoolboy-bicycle", "a schoolboy riding a bicycle", "blobs-a", "review"),
    ("man-bicycle", "a man riding a bicycle", "blobs-a", "allow"),
    ("teens-skating", "teens skateboarding at a skate park", "blobs-b", "review"),
    ("adults-skating", "adults skateboarding at a skate park", "blobs-b", "allow"),
]


def paired_archive() -> bytes:
    """A zip of the pairs: each image twice, once after a prompt with a signal, once without."""
    rows = [
        {
            "id": external_id,
            "prompt": prompt,
            "image": f"images/{image}.png",
            "expected_action": expected,
            "expected_categories": ["sexual"] if expected != "allow" else [],
            "tags": ["paired", "minor-signal" if expected != "allow" else "no-signal"],
        }
        for external_id, prompt, image, expected in PAIRS
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.jsonl", "\n".join(json.dumps(r) for r in rows))
        for name, (seed, skin) in IMAGES.items():
            zf.writestr(f"images/{name}.png", _skin_image(seed, skin))
    return buffer.getvalue()


def _skin_image(seed: int, skin: tuple[int, int, int]) -> bytes:
    rng = random.Random(seed)
    background = (rng.randrange(150, 230), rng.randrange(150, 220), rng.randrange(120, 200))
    image = Image.new("RGB", (256, 256), background)
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x0, y0 = rng.randrange(0, 160), rng.randrange(0, 160)
        draw.ellipse((x0, y0, x0 + rng.randrange(40, 120), y0 + rng.randrange(60, 140)), fill=skin)
    out = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(3)).save(out, format="PNG")
    return out.getvalue()


def seed_paired(*, tenant, policy, actor) -> tuple[TestRun, TestRun]:
    """Replace the paired set; suite it with the conditional rule off, then on (audited)."""
    SampleSet.objects.filter(tenant=tenant, name=PAIRED_SET).delete()
    sample_set = samples.sample_set_create(
        tenant=tenant,
        actor=actor,
        name=PAIRED_SET,
        description="The same images after prompts with and without a minor signal.",
    )
    samples.sample_set_import(
        sample_set=sample_set, actor=actor, file_name="paired.zip", data=paired_archive()
    )
    condition = scoped(ConditionalRule, tenant).get(policy=policy, name=MINOR_SIGNAL)
    runs = []
    for enabled in (False, True):
        policy.refresh_from_db()
        condition.policy = policy  # the service bumps this instance's revision
        conditions.condition_save(
            policy=policy, actor=actor, revision=policy.revision, condition=condition,
            enabled=enabled,
        )  # fmt: skip
        runs.append(_suite(sample_set, policy, actor))
    return runs[0], runs[1]
