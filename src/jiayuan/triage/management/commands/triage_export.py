import json
from contextlib import nullcontext
from datetime import datetime, time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayuan.org.models import Company
from jiayuan.triage import selectors


def day(value: str):
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise CommandError(_("Give the date as YYYY-MM-DD: %(value)s") % {"value": value}) from exc


class Command(BaseCommand):
    help = (
        "Write the requests whose kind, category or urgency people corrected (the owner while "
        "reporting, or the desk later) as JSON lines in the corpus' format, ready for "
        "triage_train --extra. Each line holds the request's description, its final labels, "
        "\"source\" and the request's number. The descriptions are owners' own words: review "
        "them before sharing the file."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--confirmed",
            action="store_true",
            help=(
                "also write requests the desk went on with unchanged (accepted or further, "
                'not cancelled or declined), with "source": "confirmed"'
            ),
        )
        parser.add_argument(
            "--since",
            type=day,
            help=("only requests labelled on or after this day (YYYY-MM-DD, local time)"),
        )
        parser.add_argument("--company", help=("only the requests of the company with this code"))
        parser.add_argument(
            "--output", "-o", type=Path, help=("the file to write (default: standard output)")
        )

    def handle(self, *, confirmed, since, company, output, **options):
        if company and not Company.objects.filter(code=company).exists():
            raise CommandError(_("No company has the code %(code)s.") % {"code": company})
        start = timezone.make_aware(datetime.combine(since, time.min)) if since else None
        rows = selectors.training_classifications(confirmed=confirmed, since=start, company=company)
        count = 0
        with output.open("w", encoding="utf-8") if output else nullcontext(self.stdout) as target:
            for row in rows.iterator(chunk_size=1000):
                target.write(json.dumps(selectors.training_row(row), ensure_ascii=False) + "\n")
                count += 1
        if output:
            self.stderr.write(
                _("Wrote %(count)d rows to %(path)s.") % {"count": count, "path": output}
            )
