import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from jiayuan.core.phones import mask_mobile, normalize_mobile, validate_mainland_mobile


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("(138) 0013 8000", "13800138000"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize(raw, expected):
    assert normalize_mobile(raw) == expected


@pytest.mark.parametrize("good", ["13800138000", "19912345678", "15000000000"])
def test_valid_mainland_numbers(good):
    validate_mainland_mobile(good)


@pytest.mark.parametrize(
    "bad", ["12345", "12800138000", "1380013800", "138001380001", "abcdefghijk", "", "1380013800x"]
)
def test_invalid_numbers_are_refused(bad):
    with pytest.raises(ValidationError):
        validate_mainland_mobile(bad)


def test_mask_keeps_head_and_tail():
    assert mask_mobile("13812341234") == "138****1234"
    assert mask_mobile("") == ""


@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True))
def test_every_valid_number_survives_normalising_and_masks_to_eleven_chars(number):
    assert normalize_mobile(f"+86 {number[:3]}-{number[3:7]}-{number[7:]}") == number
    validate_mainland_mobile(number)
    masked = mask_mobile(number)
    assert len(masked) == 11 and masked[3:7] == "****" and masked[-4:] == number[-4:]
