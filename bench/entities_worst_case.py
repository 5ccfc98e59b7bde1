"""Entity extraction on the longest messages a channel accepts, written to be slow: runs of digits, letters,
separators. A pattern that tries a match at every position of a run costs the square of its length (1.4 s
for 4000 digits before the built-ins started only where a run starts); here every case should take
milliseconds, like an ordinary message.

    .venv/bin/python bench/entities_worst_case.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlu_models.entities import EntityExtractor

LENGTH = 4000  # the REST and widget limit on a message's text
CASES = {
    "digits, then a letter": "1" * (LENGTH - 1) + "a",
    "letters": "a" * LENGTH,
    "digits and spaces": "1 " * (LENGTH // 2),
    "digits and dots": "1." * (LENGTH // 2),
    "groups of three and spaces": "123 " * (LENGTH // 4),
    "a currency, then groups": "€" + "1," * (LENGTH // 2 - 1),
    "an e-mail that never ends": "a." * (LENGTH // 2),
    "an ordinary message": "ST-123456 in size 44 for 159€, call me on +49 30 1234567",
}


def main() -> None:
    extractor = EntityExtractor(())
    print(f"{'case':<28} {'chars':>6} {'median ms':>10} {'max ms':>8}")
    for name, text in CASES.items():
        times = []
        for _ in range(7):
            started = time.perf_counter()
            extractor.extract(text, "en")
            times.append((time.perf_counter() - started) * 1000)
        print(f"{name:<28} {len(text):>6} {statistics.median(times):>10.2f} {max(times):>8.2f}")


if __name__ == "__main__":
    main()
