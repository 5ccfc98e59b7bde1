"""The word features of a training set, prepared language by language, on two cores when that pays.

Most of a training's time is per language and independent of the others: building spaCy's tokenizer (French:
2 s) and reading spacy-lookups-data's lemma table (Portuguese: 1.5 s). With several languages to prepare and
a second core, a helper process (``python -m nlu_models.words``, spoken to in pickles over its stdin and
stdout) takes the languages from the front of the list while this process takes them from the back, so the two
meet wherever the work splits evenly. The helper keeps its tokenizers and tables for the second step (the
lemma entries a model keeps) and then exits, taking that memory with it. The features are the same as
computed in one process: each language is prepared whole, by one process, in the same way.

A plain child process rather than ``multiprocessing``: its "spawn" start would run again the top of any
script that trains without an ``if __name__ == "__main__":`` guard, and "fork" is unsafe in a process with
threads (a test run, a server).
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from nlu_models.tokenize import LEMMA_LANGUAGES, is_prepared, useful_lemmas, word_features

log = logging.getLogger(__name__)
PARALLEL_FROM = 4  # languages still to prepare: below that, a helper's start (about 1 s) costs more than it saves


def tagged_words(tagged: str, lemmas: Mapping[str, str] | None = None) -> list[str]:
    """The word features of ``language<TAB>text``: words, folded forms and lemmas, pairs (nlu_models.tokenize),
    and neighbouring plain words as phrases."""
    language, text = tagged.split("\t", 1)
    features = word_features(text, language, lemmas)
    plain = [w for w in features if "_" not in w and not w.startswith("~")]
    return features + [f"{a} {b}" for a, b in pairwise(plain)]


def _features_of(tagged: Sequence[str]) -> list[list[str]]:
    return [tagged_words(text) for text in tagged]


def _lemmas_of(languages: Sequence[str], known: set[str]) -> dict[str, dict[str, str]]:
    return {language: useful_lemmas(language, known) for language in languages if language in LEMMA_LANGUAGES}


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _Helper:
    """The helper process: one request at a time, answered in order; it stops when its stdin closes."""

    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parent.parent)  # where nlu_models is, however this process found it
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nlu_models.words"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )

    def ask(self, operation: str, *arguments: Any) -> Any:
        """The answer, or OSError/EOFError when the helper is gone (out of memory, say)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        pickle.dump((operation, arguments), self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.process.stdin.flush()
        ok, answer = pickle.load(self.process.stdout)
        if not ok:
            raise RuntimeError(f"the training helper failed: {answer}")
        return answer

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class PreparedWords:
    """The word features of every training text (``language<TAB>text``), then the lemma entries to keep.

    Use it as a context manager: leaving it stops the helper process, if one was started.
    """

    def __init__(self, tagged: Sequence[str]) -> None:
        """Starts the helper on the first languages at once: what this process does until it asks for
        :meth:`features` (importing scikit-learn, say) overlaps with the helper's work."""
        self._by_language: dict[str, list[str]] = {}
        for text in tagged:
            self._by_language.setdefault(text.split("\t", 1)[0], []).append(text)
        self.languages = sorted(self._by_language)
        todo = [language for language in self._by_language if not is_prepared(language)]
        self._queue = deque(todo)
        self._lock = threading.Lock()
        self._features: dict[str, list[list[str]]] = {}
        self._helper_languages: list[str] = []
        self._helper = _Helper() if len(todo) >= PARALLEL_FROM and _cores() >= 2 else None
        self._thread: threading.Thread | None = None
        if self._helper is not None:
            self._thread = threading.Thread(
                target=self._helper_share, args=(self._helper,), name="training-helper", daemon=True
            )
            self._thread.start()
        self._done: dict[str, list[str]] | None = None

    def _take(self, front: bool) -> str | None:
        with self._lock:
            return (self._queue.popleft() if front else self._queue.pop()) if self._queue else None

    def _helper_share(self, helper: _Helper) -> None:
        while (language := self._take(front=True)) is not None:
            try:
                self._features[language] = helper.ask("features", self._by_language[language])
            except (OSError, EOFError, ValueError, RuntimeError) as exc:
                log.warning("training helper: %s; preparing the rest in this process", exc or type(exc).__name__)
                with self._lock:
                    self._queue.appendleft(language)
                return
            self._helper_languages.append(language)

    def features(self) -> dict[str, list[str]]:
        """Each text's word features: this process prepares languages from the back of the list until it meets
        the helper, then waits for the helper's last one."""
        if self._done is None:
            while (language := self._take(front=False)) is not None:
                self._features[language] = _features_of(self._by_language[language])
            if self._thread is not None:
                self._thread.join()
            while self._queue:  # what the helper left when it failed
                language = self._queue.pop()
                self._features[language] = _features_of(self._by_language[language])
            for language, texts in self._by_language.items():  # prepared before (not queued), or left over
                if language not in self._features:
                    self._features[language] = _features_of(texts)
            self._done = {
                text: words
                for language, texts in self._by_language.items()
                for text, words in zip(texts, self._features[language], strict=True)
            }
        return self._done

    def lemmas(self, known: set[str]) -> dict[str, dict[str, str]]:
        """Each language's lemma entries whose lemma is in ``known``, from whichever process read the table."""
        remote = [language for language in self._helper_languages if language in LEMMA_LANGUAGES]
        here = [language for language in self.languages if language not in remote]
        answer: dict[str, dict[str, str]] = {}
        thread = None
        if self._helper is not None and remote:
            helper = self._helper

            def ask() -> None:
                try:
                    answer.update(helper.ask("lemmas", remote, known))
                except (OSError, EOFError, ValueError, RuntimeError) as exc:
                    log.warning("training helper: %s; reading its lemma tables here", exc or type(exc).__name__)

            thread = threading.Thread(target=ask, name="training-helper", daemon=True)
            thread.start()
        tables = _lemmas_of(here, known)
        if thread is not None:
            thread.join()
            tables.update(answer if answer else _lemmas_of(remote, known))
        return {language: tables[language] for language in sorted(tables)}

    def __enter__(self) -> PreparedWords:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._helper is not None:
            self._helper.stop()
            self._helper = None


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The helper's loop: a request is (operation, arguments); the answer is (True, result) or (False, error)."""
    operations: dict[str, Callable[..., object]] = {"features": _features_of, "lemmas": _lemmas_of}
    while True:
        try:
            operation, arguments = pickle.load(requests)
        except EOFError:
            return
        try:
            answer: tuple[bool, Any] = (True, operations[operation](*arguments))
        except Exception as exc:  # reported to the trainer, which does the work itself then
            answer = (False, f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
