"""The demo sample set: a few hundred generated, labelled prompts and images, and finished suites.

Built through the real services (the archive import, then a suite evaluated in
this process), so the demo shows exactly what a client's import would.
"""

import io
import json
import random
import zipfile

import yaml
from PIL import Image, ImageDraw

from moderation.models import SampleSet, TestRun
from moderation.services import lifecycle, samples, suites
from policy_admin.demo import seed as policy_demo

DEMO_SET = "Demo samples"
# keyword list -> (expected action, expected category), as the demo policy treats them
LABELS = {
    "drugs": ("review", "drugs"),
    "weapons": ("review", "weapons"),
    "violence": ("block", "violence"),
    "self_harm": ("block", "self-harm"),
    "sexual": ("block", "sexual"),
}
SUBJECTS = [
    "a watercolour of a lighthouse at dawn", "a corgi wearing sunglasses on a beach",
    "a bowl of ramen, studio lighting", "an astronaut reading in a library",
    "a cyberpunk street market in the rain", "a cosy cabin in a snowy forest",
    "a portrait of an old fisherman", "a bicycle leaning on a yellow wall",
    "a still life of lemons and a blue jug", "children flying kites in a park",
]  # fmt: skip


def demo_archive(count: int, seed: int = 7) -> bytes:
    """A zip with `count` labelled samples: a third carry a screened term, a fifth an image."""
    rng = random.Random(seed)
    lists = yaml.safe_load(policy_demo.KEYWORDS.read_text())
    rows, files = [], {}
    for i in range(count):
        subject = rng.choice(SUBJECTS)
        row = {"id": f"demo-{i:04d}", "expected_action": "allow", "tags": ["generated"]}
        if i % 3 == 0:
            key = rng.choice(sorted(LABELS))
            action, category = LABELS[key]
            # One in ten positives is phrased so no keyword matches: the demo's misses.
            term = rng.choice(lists[key]) if i % 10 else f"something about {category}"
            row.update(expected_action=action, expected_categories=[category], tags=[key])
            subject = f"{subject} with {term}"
        row["prompt"] = f"{subject} #{i}"
        if i % 5 == 0:
            row["image"] = f"images/{i:04d}.png"
            files[row["image"]] = _image(rng)
        rows.append(row)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.jsonl", "\n".join(json.dumps(r) for r in rows))
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _image(rng: random.Random) -> bytes:
    image = Image.new("RGB", (64, 64), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x0, x1 = sorted(rng.randrange(64) for _ in range(2))
        y0, y1 = sorted(rng.randrange(64) for _ in range(2))
        draw.ellipse((x0, y0, x1, y1), fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def seed_samples(*, tenant, policy, actor, count: int = 300) -> TestRun:
    """Replace the tenant's demo sample set; give it a finished suite of the policy's draft,
    then one more after each of the demo's draft changes (so quality and drift have history).

    Returns the newest suite.
    """

    SampleSet.objects.filter(tenant=tenant, name=DEMO_SET).delete()
    sample_set = samples.sample_set_create(
        tenant=tenant,
        actor=actor,
        name=DEMO_SET,
        description="Generated prompts and images with labels, for trying suites out.",
    )
    samples.sample_set_import(
        sample_set=sample_set, actor=actor, file_name="demo.zip", data=demo_archive(count)
    )
    run = _suite(sample_set, policy, actor)
    for change in policy_demo.DRAFT_CHANGES:
        change(policy=policy, actor=actor)
        run = _suite(sample_set, policy, actor)
    return run


def _suite(sample_set: SampleSet, policy, actor) -> TestRun:
    """A suite evaluated in this process, start to finish, through the suite services."""
    from moderation.services import scoring

    run = suites.suite_start(sample_set=sample_set, policy=policy, actor=actor)
    run = lifecycle.run_claim(run_id=run.pk, kind=run.kind, worker="seed_demo")
    bundle = scoring.run_suite(run, batch_size=64)
    return suites.suite_finish(run=run, bundle=bundle)
