"""The words reps use for dates and times, in Dutch (Netherlands and Flanders) and English: parsing
vocabulary for dialogs.dates, not text a person reads."""

from __future__ import annotations

WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("maandag", "ma", "monday", "mon"),
        ("dinsdag", "di", "tuesday", "tue", "tues"),
        ("woensdag", "wo", "wednesday", "wed"),
        ("donderdag", "do", "thursday", "thu", "thur", "thurs"),
        ("vrijdag", "vr", "vrij", "friday", "fri"),
        ("zaterdag", "za", "saturday", "sat"),
        ("zondag", "zo", "sunday", "sun"),
    )
):
    WEEKDAYS.update(dict.fromkeys(_names, _index))

MONTHS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("januari", "january", "jan"),
        ("februari", "february", "feb"),
        ("maart", "march", "mrt", "mar", "maa"),
        ("april", "apr"),
        ("mei", "may"),
        ("juni", "june", "jun"),
        ("juli", "july", "jul"),
        ("augustus", "august", "aug"),
        ("september", "sep", "sept"),
        ("oktober", "october", "okt", "oct"),
        ("november", "nov"),
        ("december", "dec"),
    ),
    start=1,
):
    MONTHS.update(dict.fromkeys(_names, _index))

# Written-out numbers, read as digits before anything else ("half drie", "over twee weken").
NUMBERS = {
    "een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8,
    "negen": 9, "tien": 10, "elf": 11, "twaalf": 12,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}

# Days counted from today.
DAY_OFFSETS = {
    "eergisteren": -2, "gisteren": -1, "yesterday": -1, "vandaag": 0, "today": 0,
    "morgen": 1, "tomorrow": 1, "overmorgen": 2, "the day after tomorrow": 2,
}

# The part of the day, by its canonical token ("'s middags" and "vrijdagmiddag" become "middag").
PARTS = {
    "ochtend": "morning", "voormiddag": "morning", "morning": "morning", "am": "am",
    "middag": "afternoon", "namiddag": "afternoon", "afternoon": "afternoon", "pm": "pm",
    "avond": "evening", "evening": "evening",
}
# "'s middags", "'s ochtends", "in de middag", "in the afternoon" -> the canonical token
PART_PHRASES = {
    "'s ochtends": "ochtend", "'s morgens": "ochtend", "'s middags": "middag", "'s avonds": "avond",
    "s ochtends": "ochtend", "s morgens": "ochtend", "s middags": "middag", "s avonds": "avond",
    "in de ochtend": "ochtend", "in de middag": "middag", "in de namiddag": "namiddag",
    "in de avond": "avond", "in the morning": "morning", "in the afternoon": "afternoon",
    "in the evening": "evening",
}
# A part of the day written onto a day: "vrijdagmiddag", "morgenochtend", "zondagmorgen".
GLUED_PARTS = {"ochtend": "ochtend", "morgen": "ochtend", "voormiddag": "voormiddag",
               "middag": "middag", "namiddag": "namiddag", "avond": "avond"}

UNITS = {
    "dag": "days", "dagen": "days", "day": "days", "days": "days",
    "week": "weeks", "weken": "weeks", "weeks": "weeks",
    "maand": "months", "maanden": "months", "month": "months", "months": "months",
}
NEXT_WEEK = ("volgende week", "komende week", "next week")
THIS_WEEK = ("deze week", "this week")
# "next Friday", "aanstaande vrijdag": the coming Friday, the same as "Friday".
DAY_MODIFIERS = ("volgende", "komende", "aanstaande", "deze", "this", "next", "coming")
# Minutes before or after the hour: "kwart over tien", "tien voor half drie", "quarter past ten".
MINUTE_WORDS = {"kwart": 15, "quarter": 15}
AFTER, BEFORE = ("over", "past", "na"), ("voor", "to", "before")

# Words that may stand around a date and time without changing it.
FILLER = frozenset(
    {"om", "at", "on", "op", "de", "the", "van", "of", "rond", "around", "about", "ongeveer",
     "in", "a", "an", "'s", "s", "-", "o'clock"}
)
