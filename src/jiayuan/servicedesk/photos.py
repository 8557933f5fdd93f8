"""Photos from owners and technicians: checked to be real images of a sane size, re-encoded
(which drops EXIF, and with it the phone's GPS position) and given a thumbnail."""

import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}
LONGEST_SIDE = 2048
THUMBNAIL_SIDE = 320
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; more is a decompression bomb


@dataclass(frozen=True)
class PreparedPhoto:
    image: ContentFile
    thumbnail: ContentFile


def _jpeg(image: Image.Image, side: int, name: str, quality: int) -> ContentFile:
    copy = image.copy()
    copy.thumbnail((side, side))
    buffer = io.BytesIO()
    copy.save(buffer, format="JPEG", quality=quality, optimize=True)
    return ContentFile(buffer.getvalue(), name=name)


def prepare_photo(upload, position: int) -> PreparedPhoto:
    """The checked, re-encoded photo and its thumbnail, or a ValidationError naming it."""
    label = getattr(upload, "name", "") or _("photo %(n)s") % {"n": position}
    if upload.size > settings.REQUEST_PHOTO_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than %(mb)s MB.")
            % {"name": label, "mb": settings.REQUEST_PHOTO_MAX_BYTES // (1024 * 1024)}
        )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            kind = probe.format
            width, height = probe.size
            probe.verify()
        if kind not in ACCEPTED_FORMATS:
            raise ValidationError(
                _("%(name)s is not a JPEG, PNG, WebP or GIF image.") % {"name": label}
            )
        if width * height > MAX_PIXELS:
            raise ValidationError(_("%(name)s has too many pixels.") % {"name": label})
        upload.seek(0)
        with Image.open(upload) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            stem = f"p{position}"
            return PreparedPhoto(
                image=_jpeg(image, LONGEST_SIDE, f"{stem}.jpg", 85),
                thumbnail=_jpeg(image, THUMBNAIL_SIDE, f"{stem}-thumb.jpg", 75),
            )
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            _("%(name)s is not an image that can be read.") % {"name": label}
        ) from None


def prepare_photos(uploads, *, already: int = 0) -> list[PreparedPhoto]:
    """Check every upload before anything is written, so a bad photo writes nothing."""
    uploads = list(uploads or [])
    limit = settings.REQUEST_PHOTOS_MAX
    if already + len(uploads) > limit:
        raise ValidationError({"photos": _("At most %(n)s photos.") % {"n": limit}})
    prepared, errors = [], []
    for position, upload in enumerate(uploads, start=already + 1):
        try:
            prepared.append(prepare_photo(upload, position))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({"photos": errors})
    return prepared
