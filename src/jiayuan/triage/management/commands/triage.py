import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jiayuan.triage.corpus import CorpusError
from jiayuan.triage.model import BATCH, ModelError, current


def parse(line: str | bytes, number: int) -> str | dict:
    """The text of one input line, or the error line that answers it."""
    try:
        if isinstance(line, bytes):
            line = line.decode("utf-8")
    except UnicodeDecodeError:
        return {"error": _("Line %(line)d is not UTF-8 text.") % {"line": number}}
    try:
        row = json.loads(line)
    except ValueError:
        return {"error": _("Line %(line)d is not valid JSON.") % {"line": number}}
    text = row.get("text") if isinstance(row, dict) else None
    if not isinstance(text, str):
        return {
            "error": _('Line %(line)d is not a JSON object with a "text" string.')
            % {"line": number}
        }
    if not text.strip():
        return {"error": _("Line %(line)d has an empty text.") % {"line": number}}
    return text


class Command(BaseCommand):
    help = (
        'Read owner requests as JSON lines {"text": ...} on standard input and write one JSON '
        "line per request, in the same order: kind, category, urgency, confidence and the "
        'safety rules that fired. A line that cannot be read is answered with {"error": ...}.'
    )
    # Tests hand the input in as call_command(..., stdin=...).
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument(
            "--model",
            help=("the model file (default: triage/model.npz in the data folder)"),
        )

    def handle(self, *, model, **options):
        try:
            triage = current(model)
        except (ModelError, CorpusError) as exc:
            raise CommandError(str(exc)) from exc
        stream = options.get("stdin") or sys.stdin.buffer
        batch = []
        for number, line in enumerate(stream, start=1):
            batch.append(parse(line.rstrip(b"\r\n" if isinstance(line, bytes) else "\r\n"), number))
            if len(batch) == BATCH:
                self._answer(triage, batch)
                batch = []
        if batch:
            self._answer(triage, batch)

    def _answer(self, triage, batch: list[str | dict]) -> None:
        texts = [item for item in batch if isinstance(item, str)]
        predictions = iter(triage.predict(texts))
        lines = [
            json.dumps(
                item if isinstance(item, dict) else next(predictions).as_dict(),
                ensure_ascii=False,
            )
            for item in batch
        ]
        self.stdout.write("\n".join(lines))
