"""The one normalisation every triage step reads text through, so the model and the safety
rules see the same string however the owner typed it."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# A run of punctuation ("！！！", "??!!", "。。。") says no more than its first mark.
_PUNCTUATION_RUN = re.compile(r"([^\w\s])[^\w\s]+")
# Shouting by repetition ("快快快快快", "啊啊啊啊") keeps two: the n-grams stay the same.
_CHARACTER_RUN = re.compile(r"(\w)\1{2,}")


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, one space for any whitespace, runs of
    punctuation and repeated characters shortened."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _SPACES.sub(" ", text).strip()
    text = _PUNCTUATION_RUN.sub(r"\1", text)
    return _CHARACTER_RUN.sub(r"\1\1", text)
