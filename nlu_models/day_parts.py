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
