# The audit trail moved to `common`, the record of reads to `access`: state only, the tables stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("shelters", "0006_evacuation_support_help"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AuditEntry"),
                migrations.DeleteModel(name="PersonalDataAccess"),
            ]
        ),
    ]
