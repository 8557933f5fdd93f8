"""China's official holiday schedule (放假安排), as the chinese-calendar library publishes
it: the public holidays and the make-up workdays (调休) of every year it covers. The State
Council announces a year's schedule in its November or December; until a release of the
library carries it, that year is entered or imported by hand."""

import functools
from dataclasses import dataclass
from datetime import date

from chinese_calendar import constants

# The names stored on calendar days: the official Chinese names, as on the announcement.
# Unknown names (a holiday the library adds later) keep the library's English name.
CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
MAKEUP_SUFFIX = "调休"


@dataclass(frozen=True)
class OfficialDay:
    date: date
    is_holiday: bool  # else a make-up workday
    name: str


def _name(english: str) -> str:
    return CHINESE_NAMES.get(str(english), str(english))


@functools.cache
def library_years() -> frozenset[int]:
    """The years whose schedule the library knows."""
    return frozenset(day.year for day in constants.holidays)


def official_days(years) -> list[OfficialDay]:
    """The holidays and make-up workdays of these years, in date order; years the library
    does not cover give nothing."""
    wanted = set(years) & library_years()
    days = [
        OfficialDay(day, True, _name(name))
        for day, name in constants.holidays.items()
        if day.year in wanted
    ]
    days += [
        OfficialDay(day, False, _name(name) + MAKEUP_SUFFIX)
        for day, name in constants.workdays.items()
        if day.year in wanted
    ]
    return sorted(days, key=lambda day: day.date)
