from django.db import migrations

from supply.catalogue import add_default_items


class Migration(migrations.Migration):
    dependencies = [("supply", "0002_initial")]

    operations = [migrations.RunPython(add_default_items, migrations.RunPython.noop)]
