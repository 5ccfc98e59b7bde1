"""The part of the day a message names beside an hour, in our languages: "in the morning" keeps "at 3" at 03:00,
"in the evening" makes "at 8" 20:00 ("tomorrow evening at 8", "a las 8 de la tarde", "demain soir à 8h" were
all booked for 08:00). Chinese (上午, 下午) and Vietnamese (sáng, chiều) parts come with their hour's pattern.
"""

from __future__ import annotations

import re

# a morning said in words or am: "tomorrow at 3 in the morning" stays 03:00 ("mañana" alone is tomorrow); "am"
# only after an hour ("10am", "10 am") or as "a.m." (German "am 15." is "on the 15th"), and Vietnamese "sang"
# without its accent only after giờ ("sang" is also "to")
MORNING = re.compile(
    r"(?<=\d)\s?a\.?m\.?(?!\w)|(?<!\w)a\.m\.|(?<!\w)(?:giờ|gio)\s+sang(?!\w)|"
    r"(?<!\w)(?:morning|de la mañana|de la manana|madrugada|du matin|morgens|früh|fruh|di mattina|"
    r"del mattino|da manhã|da manha|de manhã|de manha|'s ochtends|rano|dimineața|dimineata|sáng)(?!\w)",
    re.IGNORECASE,
)
# the afternoon, the evening or the night said in words ("tarde" alone is also "late": only in its phrases)
_LATER = re.compile(
    r"(?<!\w)(?:afternoon|evening|tonight|at night|"
    r"abends?|nachmittags?|heute abend|morgenabend|"
    r"(?:de|por|a|en) la (?:tarde|noche)|esta (?:tarde|noche)|"
    r"soir|ce soir|du soir|après-midi|apres-midi|de l'après-midi|"
    r"sera|stasera|pomeriggio|del pomeriggio|di pomeriggio|"
    r"(?:da|à|a|de|pela|esta) (?:tarde|noite)|hoje à noite|"
    r"avond|'s avonds|vanavond|morgenavond|middag|'s middags|vanmiddag|morgenmiddag|"
    r"wieczorem|wieczór|wieczor|po południu|po poludniu|popołudniu|"
    r"seara|seară|diseară|diseara|după-amiaza|după-amiază|dupa-amiaza|după masă|dupa masa|"
    r"chiều|chieu|tối)(?!\w)",
    re.IGNORECASE,
)
_NEAR = 25  # characters between an hour and its part of the day ("mañana por la tarde, sobre las 5")
# a part of the day said not to be the one: "not in the evening", "abends kann ich nicht", "por la tarde no puedo"
_NOT = re.compile(r"(?<!\w)(?:not|never|nicht|kein\w*|no|pas|non|nie|nu|niet|não|nao|nunca|không|khong)(?!\w)", re.I)
_NOT_NEAR = 15


def later_in_day(text: str, start: int, end: int) -> bool:
    """Whether the hour at ``text[start:end]`` is said to be in the afternoon or evening (and no morning is
    said anywhere): an hour from 1 to 11 is then 13 to 23."""
    if MORNING.search(text):
        return False
    begin = max(0, start - _NEAR)
    for said in _LATER.finditer(text, begin, end + _NEAR):
        around = text[max(0, said.start() - _NOT_NEAR) : said.end() + _NOT_NEAR]
        if not _NOT.search(around):
            return True
    return False


# A part of the day said alone, for a time of day: "in the morning", "mittags", "por la tarde", "上午" to "at what
# time?" were refused. Each stands for an hour a shop's team calls or delivers at.
_PART_HOURS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (
        10,
        re.compile(
            r"(?<!\w)(?:morning|in the morning|vormittags?|morgens|früh|fruh|matin|le matin|matinée|"
            r"(?:por|de|en) la (?:mañana|manana)|mattina|di mattina|in mattinata|mattinata|"
            r"(?:de|da|pela) (?:manhã|manha)|ochtend|'s ochtends|rano|dimineața|dimineata|sáng|buổi sáng|buoi sang)"
            r"(?!\w)|上午|早上",
            re.IGNORECASE,
        ),
    ),
    (
        12,
        re.compile(
            r"(?<!\w)(?:noon|midday|lunchtime|lunch time|mittags?|mittagszeit|midi|à midi|mediod[ií]a|"
            r"mezzogiorno|ora di pranzo|middaguur|lunchtijd|w południe|południe|poludnie|meio-dia|meio dia|"
            r"la prânz|prânz|pranz|amiază|amiaza|trưa|buổi trưa|trua)(?!\w)|中午",
            re.IGNORECASE,
        ),
    ),
    (
        15,
        re.compile(
            r"(?<!\w)(?:afternoon|in the afternoon|nachmittags?|après-midi|apres-midi|l'après-midi|"
            r"(?:de|por|a|en) la tarde|esta tarde|pomeriggio|di pomeriggio|nel pomeriggio|"
            r"(?:da|à|a|de|pela|esta) tarde|'s middags|vanmiddag|in de middag|po południu|po poludniu|popołudniu|"
            r"după-amiaza|după-amiază|dupa-amiaza|după masă|dupa masa|chiều|buổi chiều|chieu|buoi chieu)(?!\w)|下午",
            re.IGNORECASE,
        ),
    ),
    (
        19,
        re.compile(
            r"(?<!\w)(?:evening|in the evening|tonight|abends?|am abend|soir|le soir|en soirée|soirée|"
            r"(?:de|por|a|en) la noche|esta noche|la sera|di sera|stasera|(?:da|à|a|de|pela|esta) noite|"
            r"'s avonds|avond|vanavond|wieczorem|wieczór|wieczor|seara|seară|diseară|diseara|tối|buổi tối|buoi toi)"
            r"(?!\w)|晚上",
            re.IGNORECASE,
        ),
    ),
)


_EXCEPT = re.compile(
    r"(?<!\w)(?:except|but not|apart from|außer|ausser|sauf|excepto|salvo|menos|tranne|eccetto|behalve|oprócz|"
    r"oprocz|exceto|în afară|in afara|trừ|tru)(?!\w)|除了",
    re.IGNORECASE,
)


def part_of_day_hour(text: str) -> tuple[int, tuple[int, int]] | None:
    """The hour the one part of the day ``text`` names stands for, and where it is: "in the morning" 10, "at noon"
    12, "por la tarde" 15, "abends" 19. None when it names none, several, or one said not to be the time ("not in
    the evening")."""
    found = [(hour, said) for hour, pattern in _PART_HOURS for said in pattern.finditer(text)]
    found = [  # "l'après-midi" holds "midi", "după-amiaza" "amiaza": the longer part is the one said
        (hour, said)
        for hour, said in found
        if not any(o.start() <= said.start() and said.end() <= o.end() and o.span() != said.span() for _, o in found)
    ]
    if len({hour for hour, _ in found}) != 1:
        return None
    hour, said = max(found, key=lambda f: f[1].end() - f[1].start())
    if _NOT.search(text[max(0, said.start() - _NOT_NEAR) : said.end() + _NOT_NEAR]) or _EXCEPT.search(text):
        return None
    return hour, said.span()
