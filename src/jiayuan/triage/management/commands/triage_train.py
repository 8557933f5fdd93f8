from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jiayuan.triage import services
from jiayuan.triage.corpus import CorpusError
from jiayuan.triage.management.commands._arguments import add_corpus_and_model_arguments
from jiayuan.triage.model import ModelError


class Command(BaseCommand):
    help = (
        "Train the triage model on the training split of the corpus, evaluate it and the "
        "current model on the held-out split, and replace the current model only if the new "
        "one is no worse on kind accuracy, category accuracy and emergency recall. Rows of "
        "--extra files (such as the corrections written by triage_export) are added to the "
        "training split only, so the held-out split, and the comparison, stay the corpus'."
    )

    def add_arguments(self, parser):
        add_corpus_and_model_arguments(parser)
        parser.add_argument(
            "--force",
            action="store_true",
            help=("replace the current model even if the new one is worse"),
        )
        parser.add_argument(
            "--extra",
            type=Path,
            action="append",
            default=[],
            metavar="FILE",
            help=("more labelled rows in the corpus' format, for training only (repeatable)"),
        )

    def handle(self, *, corpus: Path, model: Path | None, force: bool, extra: list, **options):
        try:
            result = services.model_retrain(
                corpus_path=corpus, model_path=model, force=force, extra_paths=extra
            )
        except (CorpusError, ModelError) as exc:
            raise CommandError(str(exc)) from exc
        new, old = result.new, result.old
        self.stdout.write(
            _("Held-out requests: %(count)d (never trained on)") % {"count": new.examples}
        )
        current, new_model = _("current"), _("new")
        self.stdout.write(f"{'':<20}{current:>10}{new_model:>10}")
        rows = [(f"{name}_accuracy", "accuracy", name) for name in ("kind", "category", "urgency")]
        for label, attribute, name in rows:
            before = f"{getattr(old, attribute)[name]:.3f}" if old else "-"
            self.stdout.write(f"{label:<20}{before:>10}{getattr(new, attribute)[name]:>10.3f}")
        self.stdout.write(f"{'emergency_recall':<20}{_recall(old):>10}{_recall(new):>10}")
        if not result.replaced:
            raise CommandError(
                _("Kept the current model: the new one is worse on %(measures)s (see --force).")
                % {"measures": ", ".join(result.worse)}
            )
        if result.worse:
            self.stdout.write(
                _("Replaced the current model although the new one is worse on %(measures)s.")
                % {"measures": ", ".join(result.worse)}
            )
        self.stdout.write(self.style.SUCCESS(_("Saved %(path)s.") % {"path": result.path}))


def _recall(evaluation) -> str:
    if evaluation is None or evaluation.emergency_recall is None:
        return "-"
    return f"{evaluation.emergency_recall:.3f}"
