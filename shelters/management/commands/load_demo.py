"""Load the Aizuwakamatsu sample data: shelters, demo logins and fictional evacuees, and the other
apps' sample data (survey answers, supply depots), which they register in `common.sources`."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from shelters.demo import demo_load
from shelters.models import Role


class Command(BaseCommand):
    help = (
        "Load SAMPLE data for Aizuwakamatsu (会津若松市): about 30 shelters at real facility names, "
        "demo logins, and a few hundred fictional evacuees. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="First delete the sample rows of every app (people, stays, answers, requests), then load them afresh.",
        )
        parser.add_argument(
            "--only-embedded",
            action="store_true",
            help="What `make run` asks: load only into the embedded SQLite database (no DATABASE_URL), "
            "or when DEMO=1; never into a configured database otherwise.",
        )

    def handle(self, *args, reset: bool, only_embedded: bool, **options):
        if only_embedded and settings.DATABASE_URL and not settings.DEMO:
            self.stdout.write(_("DATABASE_URL is set: the sample data was not loaded (DEMO=1 loads it)."))
            return
        summary = demo_load(reset=reset)
        counts = summary.counts
        write = self.stdout.write
        write(
            self.style.WARNING(
                "サンプルデータ / SAMPLE DATA: 架空の人物です。実在の人物ではありません (not real people)."
            )
        )
        write(
            "施設名は実在の施設ですが、開設状況と人数はサンプルです (real facility names, sample status and numbers)."
        )
        if reset:
            write(_("Removed the previous sample evacuees, households and stays."))
        if not summary.created_people:
            write(_("Sample evacuees already existed: left them as they are (use --reset to reload them)."))
        write("")
        write(f"Shelters (避難所):          {summary.shelters}, open (開設中) {summary.open_shelters}")
        write(f"Households (世帯):          {summary.households}")
        write(
            f"Evacuees (避難者):          {summary.evacuees}, with support needs (要配慮) {summary.with_support_needs}"
        )
        write(f"Checked in (入所中):        {summary.checked_in} inside, {summary.outside} outside (在宅・車中)")
        if "survey_responses" in counts:
            write(f"Survey answers (アンケート): {counts['survey_responses']}")
        if "supply_depots" in counts:
            write(
                f"Supply depots (備蓄倉庫):   {counts['supply_depots']}, suppliers (調達先) {counts.get('supply_suppliers', 0)}"
            )
        write("")
        write(
            _(
                "Demo logins, with this installation's passwords (change one with "
                "`python manage.py changepassword USER`; change or delete these accounts before real use):"
            )
        )
        for username, role in summary.users:
            password = summary.passwords.get(username) or _("(changed by its user: not shown)")
            line = f"  {username:<10} {password:<20} {Role(role).label}"
            if role == Role.MANAGER and summary.managed_shelters:
                line += f": {', '.join(summary.managed_shelters)}"
            write(line)
        write(self.style.SUCCESS(_("Sample data loaded.")))
