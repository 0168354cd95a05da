# PersonalDataAccess moved here from `shelters` (0007): state only, the table keeps its name.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("shelters", "0007_move_audit_and_access"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PersonalDataAccess",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("purpose", models.CharField(max_length=64)),
                        ("at", models.DateTimeField(db_index=True)),
                        (
                            "evacuee",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="accesses",
                                to="shelters.evacuee",
                            ),
                        ),
                        (
                            "viewer",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "personal data access",
                        "verbose_name_plural": "personal data accesses",
                        "db_table": "shelters_personaldataaccess",
                        "ordering": ["-at", "-id"],
                    },
                ),
            ]
        ),
    ]
