from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jiayuan.dashboard import services
from jiayuan.org.models import Company


class Command(BaseCommand):
    help = (
        "Rebuild the dashboards' figures of every company (or one, with --company) from the "
        "requests and what hangs on them, showing progress. The job keeps them current on its "
        "own; run this after importing history."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", help="the company's code")

    def handle(self, *args, company=None, **options):
        companies = Company.objects.order_by("pk")
        if company:
            companies = companies.filter(code=company)
            if not companies.exists():
                raise CommandError(_("No company has the code %(code)s.") % {"code": company})
        for each in companies:
            months = services.rollups_rebuild(
                actor=None, company=each, progress=lambda done, total: self._progress(done, total)
            )
            self.stdout.write(
                _("%(company)s: %(months)d estate-months rebuilt.")
                % {"company": each.name, "months": months}
            )

    def _progress(self, done: int, total: int) -> None:
        if done == total or done % 10 == 0:
            self.stderr.write(f"  {done}/{total}", ending="\r" if done < total else "\n")
