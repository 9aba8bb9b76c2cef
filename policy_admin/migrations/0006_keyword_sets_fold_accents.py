"""Keyword sets: accent folding, a match option.

Existing keyword sets get the folding off, so they keep matching as they did
(as a published bundle without the option does); new sets get it on.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("policy_admin", "0005_versions_go_with_their_policy"),
    ]

    operations = [
        migrations.AddField(
            model_name="floorkeywordset",
            name="accents",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="floorkeywordset",
            name="accents",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="keywordruleset",
            name="accents",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="keywordruleset",
            name="accents",
            field=models.BooleanField(default=True),
        ),
    ]
