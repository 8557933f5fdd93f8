"""What the triage commands share: where the corpus and the model are."""

from pathlib import Path

from jiayuan.triage import corpus


def add_corpus_and_model_arguments(parser) -> None:
    parser.add_argument(
        "--corpus",
        type=Path,
        default=corpus.SHIPPED_CORPUS,
        help=("the labelled JSON-lines corpus (default: the shipped one)"),
    )
    parser.add_argument(
        "--model",
        type=Path,
        help=("the model file (default: triage/model.npz in the data folder)"),
    )
