"""Keyword sets: more leetspeak symbols, a match option.

Existing keyword sets get the folding off, so they keep matching as they did
(as a published bundle without the option does); new sets get it on.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("policy_admin", "0007_keyword_sets_squeeze_repeats"),
    ]

    operations = [
        migrations.AddField(
            model_name="floorkeywordset",
            name="leet_symbols",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="floorkeywordset",
            name="leet_symbols",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="keywordruleset",
            name="leet_symbols",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="keywordruleset",
            name="leet_symbols",
            field=models.BooleanField(default=True),
        ),
    ]
