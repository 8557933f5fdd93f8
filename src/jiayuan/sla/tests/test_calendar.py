"""Business-time arithmetic: properties over random schedules and instants (nights,
weekends, holidays, 调休 Saturdays, split windows, a zone with clock changes), and worked
examples on China's 2026 schedule as the library gives it."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jiayuan.sla.calendar import OFFICE_WEEK, NoWorkingTime, Schedule
from jiayuan.sla.official import official_days

SHANGHAI = ZoneInfo("Asia/Shanghai")


def china(year_days=(2025, 2026, 2027)) -> Schedule:
    days = official_days(year_days)
    return Schedule(
        holidays=frozenset(day.date for day in days if day.is_holiday),
        makeup_workdays={day.date: 0 for day in days if not day.is_holiday},
    )


CHINA = china()


def at(*args, zone=SHANGHAI) -> datetime:
    return datetime(*args, tzinfo=zone)


def local(moment: datetime, zone=SHANGHAI) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


# ----------------------------------------------------------------------------- strategies

quarter_hours = st.integers(min_value=0, max_value=95).map(lambda q: time(q // 4, q % 4 * 15))


@st.composite
def day_windows(draw):
    """0–3 disjoint windows on quarter hours, sometimes one running to midnight."""
    bounds = sorted(set(draw(st.lists(quarter_hours, max_size=6))))
    if len(bounds) % 2:
        bounds = bounds[:-1]
    windows = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]
    if windows and draw(st.booleans()) and draw(st.booleans()):
        windows[-1] = (windows[-1][0], time(0))
    return tuple(windows)


SPAN_START = date(2026, 1, 1)
dates = st.integers(min_value=0, max_value=120).map(lambda n: SPAN_START + timedelta(days=n))


@st.composite
def schedules(draw):
    windows = tuple(draw(day_windows()) for _weekday in range(7))
    holidays = frozenset(draw(st.lists(dates, max_size=15)))
    makeup = draw(st.dictionaries(dates, st.integers(0, 6), max_size=5))
    zone = draw(st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"]))
    assume(any(windows) or any(windows[weekday] for weekday in makeup.values()))
    return Schedule(time_zone=zone, windows=windows, holidays=holidays, makeup_workdays=makeup)


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 4, 30), timezones=st.just(UTC)
)
minutes = st.one_of(
    st.integers(min_value=0, max_value=60 * 24 * 20),
    st.floats(min_value=0, max_value=60 * 24 * 5, allow_nan=False),
)
fast = settings(max_examples=150, deadline=None)


# ----------------------------------------------------------------------------- properties


@fast
@given(schedules(), instants, minutes)
def test_adding_then_measuring_gives_back_the_minutes(schedule, start, amount):
    try:
        end = schedule.add(start, amount)
    except NoWorkingTime:
        assume(False)
    assert end >= start
    assert schedule.between(start, end) == pytest.approx(amount, abs=1e-6)


@fast
@given(schedules(), instants, minutes, minutes)
def test_add_is_monotonic_and_composes(schedule, start, first, second):
    try:
        shorter = schedule.add(start, min(first, second))
        longer = schedule.add(start, max(first, second))
    except NoWorkingTime:
        assume(False)
    assert shorter <= longer
    # Counting in two goes ends where counting in one does. (Not for a second part of 0:
    # add(t, 0) moves a closed instant on to the next opening.)
    if 0 < min(first, second) < max(first, second):
        again = schedule.add(shorter, max(first, second) - min(first, second))
        assert abs((again - longer).total_seconds()) < 1e-3


@fast
@given(schedules(), instants, instants, minutes)
def test_a_later_start_never_gives_an_earlier_deadline(schedule, one, other, amount):
    early, late = sorted([one, other])
    try:
        assert schedule.add(early, amount) <= schedule.add(late, amount)
    except NoWorkingTime:
        assume(False)


@fast
@given(schedules(), instants, instants, instants)
def test_minutes_between_add_up_over_any_split_point(schedule, one, two, three):
    """Pausing at `middle` and resuming there never loses or gains business time."""
    start, middle, end = sorted([one, two, three])
    whole = schedule.between(start, end)
    assert whole == pytest.approx(
        schedule.between(start, middle) + schedule.between(middle, end), abs=1e-9
    )
    assert 0 <= whole <= (end - start).total_seconds() / 60 + 1e-9
    assert schedule.between(end, start) == 0


@fast
@given(schedules(), instants)
def test_is_open_agrees_with_the_minutes_counted(schedule, moment):
    one_second = timedelta(seconds=1)
    counted = schedule.between(moment, moment + one_second)
    if schedule.is_open(moment) and schedule.is_open(moment + one_second - timedelta.resolution):
        assert counted == pytest.approx(1 / 60)
    if not schedule.is_open(moment):
        assert counted < 1 / 60


@fast
@given(instants, minutes, st.sampled_from(["Asia/Shanghai", "Europe/Berlin"]))
def test_the_24x7_schedule_is_wall_clock_time(start, amount, zone):
    always = Schedule.always(zone)
    end = always.add(start, amount)
    assert abs((end - start).total_seconds() - amount * 60) < 1e-5
    assert always.between(start, end) == pytest.approx(amount, abs=1e-6)
    assert always.is_open(start)


@fast
@given(instants, st.integers(min_value=0, max_value=60 * 24 * 10))
def test_office_hours_deadlines_fall_inside_working_time(start, amount):
    end = CHINA.add(start, amount)
    if amount > 0:
        # The instant before the deadline was working time.
        assert CHINA.is_open(end - timedelta(microseconds=1))
    else:
        assert CHINA.is_open(end)


# ----------------------------------------------------------------------------- examples


def test_adding_across_a_night():
    assert local(CHINA.add(at(2026, 3, 10, 17, 30), 60)) == datetime(2026, 3, 11, 9, 0)


def test_adding_across_lunch_splits_the_windows():
    assert local(CHINA.add(at(2026, 3, 10, 11, 30), 60)) == datetime(2026, 3, 10, 14, 0)
    assert CHINA.between(at(2026, 3, 10, 11, 0), at(2026, 3, 10, 14, 0)) == 90


def test_adding_across_a_weekend():
    friday_evening = at(2026, 3, 13, 17, 0)
    assert local(CHINA.add(friday_evening, 120)) == datetime(2026, 3, 16, 9, 30)


def test_a_deadline_that_uses_up_a_window_ends_with_it():
    assert local(CHINA.add(at(2026, 3, 10, 11, 0), 60)) == datetime(2026, 3, 10, 12, 0)


def test_zero_minutes_is_the_next_open_instant():
    assert local(CHINA.add(at(2026, 3, 10, 12, 0), 0)) == datetime(2026, 3, 10, 13, 30)
    assert local(CHINA.add(at(2026, 3, 10, 9, 15), 0)) == datetime(2026, 3, 10, 9, 15)
    assert local(CHINA.add(at(2026, 3, 14, 10, 0), 0)) == datetime(2026, 3, 16, 8, 30)


def test_the_2026_national_day_holiday_and_its_make_up_days():
    """Oct 1–7 off; Sunday Sep 20 and Saturday Oct 10 worked, as the library gives them."""
    assert all(not CHINA.is_open(at(2026, 10, day, 10, 0)) for day in range(1, 8))
    assert CHINA.is_open(at(2026, 9, 20, 10, 0))  # a Sunday
    assert CHINA.is_open(at(2026, 10, 10, 10, 0))  # a Saturday
    assert not CHINA.is_open(at(2026, 10, 11, 10, 0))  # the Sunday after is off
    # Last afternoon before the holiday, then straight to Thursday Oct 8.
    assert local(CHINA.add(at(2026, 9, 30, 17, 0), 120)) == datetime(2026, 10, 8, 9, 30)
    # Friday Oct 9 evening: the 调休 Saturday counts, with Monday's windows.
    assert local(CHINA.add(at(2026, 10, 9, 17, 30), 60)) == datetime(2026, 10, 10, 9, 0)
    # The whole holiday week holds only the 3.5 + 4.5 hours of Sep 30.
    assert CHINA.between(at(2026, 9, 30, 0, 0), at(2026, 10, 8, 0, 0)) == 8 * 60


def test_a_make_up_day_follows_the_weekday_it_names():
    short_friday = (*OFFICE_WEEK[:4], ((time(9, 0), time(12, 0)),), (), ())
    schedule = Schedule(windows=short_friday, makeup_workdays={date(2026, 10, 10): 4})
    assert schedule.between(at(2026, 10, 10, 0, 0), at(2026, 10, 11, 0, 0)) == 180


def test_spring_festival_2026():
    # Saturday Feb 14 is worked, Feb 15–23 off, Saturday Feb 28 worked.
    assert CHINA.is_open(at(2026, 2, 14, 9, 0))
    assert local(CHINA.add(at(2026, 2, 13, 17, 0), 120)) == datetime(2026, 2, 14, 9, 30)
    assert local(CHINA.add(at(2026, 2, 14, 17, 0), 120)) == datetime(2026, 2, 24, 9, 30)


def test_a_window_can_end_at_midnight():
    evenings = (((time(18, 0), time(0)),),) * 7
    schedule = Schedule(windows=evenings)
    assert local(schedule.add(at(2026, 3, 10, 23, 0), 90)) == datetime(2026, 3, 11, 18, 30)
    assert schedule.between(at(2026, 3, 10, 0, 0), at(2026, 3, 11, 0, 0)) == 360


def test_a_day_with_a_clock_change_counts_the_hours_that_pass():
    berlin = ZoneInfo("Europe/Berlin")
    nights = (((time(0, 0), time(6, 0)),),) * 7
    schedule = Schedule(time_zone="Europe/Berlin", windows=nights)
    # Clocks go forward at 02:00 on 29 March 2026: the night has five hours.
    spring = schedule.between(at(2026, 3, 29, zone=berlin), at(2026, 3, 30, zone=berlin))
    assert spring == 5 * 60
    # And back at 03:00 on 25 October: seven.
    autumn = schedule.between(at(2026, 10, 25, zone=berlin), at(2026, 10, 26, zone=berlin))
    assert autumn == 7 * 60


def test_answers_are_in_utc():
    assert CHINA.add(at(2026, 3, 10, 9, 0), 30).tzinfo is UTC


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        CHINA.add(datetime(2026, 3, 10, 9, 0), 30)  # naive
    with pytest.raises(ValueError):
        CHINA.add(at(2026, 3, 10, 9, 0), -1)
    with pytest.raises(ValueError):
        CHINA.add(at(2026, 3, 10, 9, 0), float("nan"))
    with pytest.raises(ValueError):
        Schedule(windows=(((time(12, 0), time(9, 0)),),) * 7)
    with pytest.raises(ValueError):
        Schedule(windows=(((time(9, 0), time(12, 0)), (time(11, 0), time(13, 0))),) * 7)
    with pytest.raises(ValueError):
        Schedule(windows=OFFICE_WEEK[:5])
    with pytest.raises(Exception, match="No time zone"):
        Schedule(time_zone="Mars/Olympus")


def test_a_schedule_without_working_time_says_so():
    closed = Schedule(windows=((),) * 7)
    with pytest.raises(NoWorkingTime):
        closed.add(at(2026, 3, 10, 9, 0), 1)
    assert closed.between(at(2026, 3, 10), at(2026, 4, 10)) == 0
    # Only a make-up day, already past: nothing is ahead.
    past = Schedule(windows=((),) * 7, makeup_workdays={date(2026, 1, 5): 0})
    with pytest.raises(NoWorkingTime):
        past.add(at(2026, 3, 10, 9, 0), 1)
    # Windows only on a weekday that every date of the next ten years is a holiday of:
    # the loop gives up instead of running on.
    mondays = (((time(9, 0), time(10, 0)),), (), (), (), (), (), ())
    every_monday = frozenset(date(2026, 3, 16) + timedelta(weeks=n) for n in range(600))
    blocked = Schedule(windows=mondays, holidays=every_monday)
    with pytest.raises(NoWorkingTime):
        blocked.add(at(2026, 3, 14, 9, 0), 1)


def test_thousands_of_deadlines_are_quick():
    import time as clock

    start = at(2026, 9, 1, 8, 0)
    began = clock.perf_counter()
    for n in range(5000):
        CHINA.add(start + timedelta(minutes=n * 13), 16 * 60)
    assert clock.perf_counter() - began < 2
