"""Certificate scans: a photo or a PDF, recognised by what the file holds, not by its name,
and kept small enough to store and send."""

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

SCAN_MAX_BYTES = 5 * 1024 * 1024
IMAGE_SUFFIXES = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; more is a decompression bomb
PDF_MAGIC = b"%PDF-"


def _image_suffix(upload) -> str | None:
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            kind, (width, height) = probe.format, probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    if width * height > MAX_PIXELS:
        return None
    return IMAGE_SUFFIXES.get(kind)


def checked_scan(upload) -> ContentFile:
    """The upload as a file to store, named by what it really is; a ValidationError on the
    `scan` field for anything that is not a readable image or PDF of an allowed size."""
    if upload.size > SCAN_MAX_BYTES:
        raise ValidationError(
            {
                "scan": _("The scan is too large: at most %(limit)s.")
                % {"limit": filesizeformat(SCAN_MAX_BYTES)}
            }
        )
    if upload.size == 0:
        raise ValidationError({"scan": _("The file is empty.")})
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    suffix = "pdf" if head == PDF_MAGIC else _image_suffix(upload)
    if suffix is None:
        raise ValidationError(
            {"scan": _("Upload a photo (JPEG, PNG or WebP) or a PDF of the certificate.")}
        )
    upload.seek(0)
    return ContentFile(upload.read(), name=f"scan.{suffix}")
