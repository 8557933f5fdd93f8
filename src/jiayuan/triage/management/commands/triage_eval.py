from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jiayuan.triage import corpus, evaluation
from jiayuan.triage.corpus import CorpusError
from jiayuan.triage.management.commands._arguments import add_corpus_and_model_arguments
from jiayuan.triage.model import ModelError, current


class Command(BaseCommand):
    help = (
        "Evaluate the triage model on the held-out split of the corpus, which it never "
        "trained on: accuracy per field, confusion matrices and emergency recall. Fails when "
        "a measure is below its minimum."
    )

    def add_arguments(self, parser):
        add_corpus_and_model_arguments(parser)
        parser.add_argument(
            "--min-kind",
            type=float,
            default=evaluation.MIN_KIND_ACCURACY,
            help=("the lowest acceptable kind accuracy"),
        )
        parser.add_argument(
            "--min-category",
            type=float,
            default=evaluation.MIN_CATEGORY_ACCURACY,
            help=("the lowest acceptable category accuracy"),
        )
        parser.add_argument(
            "--min-emergency-recall",
            type=float,
            default=evaluation.MIN_EMERGENCY_RECALL,
            help=("the lowest acceptable share of emergencies found"),
        )

    def handle(self, **options):
        try:
            _training, held_out = corpus.split(corpus.load(options["corpus"]))
            triage = current(options["model"])
        except (CorpusError, ModelError) as exc:
            raise CommandError(str(exc)) from exc
        if not held_out:
            raise CommandError(_("The corpus holds no held-out request to evaluate on."))
        result = evaluation.evaluate(triage, held_out)
        self.stdout.write("\n".join(evaluation.report(result)))
        shortfalls = result.shortfalls(
            min_kind=options["min_kind"],
            min_category=options["min_category"],
            min_emergency_recall=options["min_emergency_recall"],
        )
        if shortfalls:
            raise CommandError(_("Below the bar: %(list)s.") % {"list": "; ".join(shortfalls)})
