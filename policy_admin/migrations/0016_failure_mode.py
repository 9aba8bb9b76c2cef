from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("policy_admin", "0015_custom_classifiers"),
    ]

    operations = [
        migrations.AddField(
            model_name="policy",
            name="failure_mode",
            field=models.CharField(
                choices=[
                    ("closed", "Fail closed: refuse content when moderation cannot answer"),
                    ("open", "Fail open: let content through when moderation cannot answer"),
                ],
                default="closed",
                db_default="closed",
                max_length=6,
            ),
        ),
    ]
