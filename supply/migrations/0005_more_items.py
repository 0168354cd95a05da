from django.db import migrations

from supply.catalogue import add_default_items


class Migration(migrations.Migration):
    """The rest of the catalogue issue 5 lists (adult diapers, sanitary items, masks, portable toilets)."""

    dependencies = [("supply", "0004_depots_stock_tasks")]

    operations = [migrations.RunPython(add_default_items, migrations.RunPython.noop)]
