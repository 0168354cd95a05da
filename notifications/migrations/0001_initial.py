# Notification moved here from `dashboard` (0002): state only, the table keeps its name.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("dashboard", "0002_move_notification"),
        ("shelters", "0004_shelter_version"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        (
                            "kind",
                            models.CharField(
                                choices=[("supply", "Supplies"), ("survey", "Survey"), ("system", "System")],
                                max_length=16,
                                verbose_name="kind",
                            ),
                        ),
                        ("title", models.CharField(max_length=200, verbose_name="title")),
                        ("body", models.TextField(blank=True, verbose_name="body")),
                        ("created_at", models.DateTimeField(db_index=True, verbose_name="created at")),
                        (
                            "shelter",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to="shelters.shelter",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "notification",
                        "verbose_name_plural": "notifications",
                        "db_table": "dashboard_notification",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
            ]
        ),
    ]
