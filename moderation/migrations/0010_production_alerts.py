from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0009_production_decisions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="alertrule",
            name="kind",
            field=models.CharField(
                choices=[
                    ("metric_below", "Precision, recall or F1 below a floor after a suite run"),
                    ("drift", "Score drift past a threshold"),
                    ("fleet", "Fleet servers stale or rejecting a bundle"),
                    ("review_backlog", "Review items waiting longer than N minutes"),
                    ("prod_precision", "Production precision below a floor"),
                ],
                max_length=16,
            ),
        ),
    ]
