"""Which of seven languages a reply is written in, from its function words — or ``None``.

The rule judge needs to tell whether a reply is in the language it was asked for, offline and
deterministically. This detector counts the most common function words (articles, pronouns,
prepositions, conjunctions, the words of thanks and apology a reply is made of) of English,
German, French, Spanish, Italian, Dutch and Portuguese. A word listed for several languages
(``de``, ``la``, ``que``) counts for each of them by ``1 / number of languages``, so shared words
never decide alone.

It answers only when the evidence is clear: a best score of at least ``MIN_SCORE`` and at least
``MIN_LEAD`` times the runner-up. Otherwise it returns ``None`` — the caller decides what unsure
means. What it cannot do, by design:

- text of a sentence or two is usually ``None`` (too few function words);
- close languages (Spanish / Portuguese / Italian, German / Dutch) are told apart only by the
  words they do not share, so a short reply may come back ``None`` rather than right;
- a reply that switches language is reported as its majority language;
- any other language comes back ``None``, or rarely as one of the seven when it shares many
  words with it (Catalan, Galician, Afrikaans).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

#: The languages the detector knows (ISO 639-1).
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "nl", "pt")
MIN_SCORE = 2.5
MIN_LEAD = 1.5

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """the and is are was were you your we our us to of for with this that it not have has be
        thank thanks sorry please hear will would can very so on at about they from by an glad
        hope enjoy any team if do""".split()
    ),
    "de": frozenset(
        """der die das und ist nicht sie wir ihr ihre ihnen uns unser unsere es ein eine einen mit
        für auf zu den dem des auch sehr dass wie bei vielen dank leid bitte haben wird sich von im
        noch freuen gerne können wenden""".split()
    ),
    "fr": frozenset(
        """le la les et est vous votre vos nous notre nos pour avec pas une des du que qui dans ce
        cette sur très merci ne au aux sont être avons été je mais plus désolés désolé n'hésitez
        ravis""".split()
    ),
    "es": frozenset(
        """el la los las y es usted su sus nosotros nuestro nuestra para con por que una un del muy
        gracias lo le no en de se está hemos sentimos esperamos pero al como nos alegra""".split()
    ),
    "it": frozenset(
        """il lo la gli le e è di che per con non una un del della molto grazie ci siamo sono suo
        sua vostro nostro nostra questo questa ma anche nel alla ha ti dispiace felici""".split()
    ),
    "nl": frozenset(
        """de het een en is niet wij we u uw ons onze voor met van dat die op te zeer heel bedankt
        dank graag zijn hebben wordt maar ook naar bij er je jullie fijn spijt""".split()
    ),
    "pt": frozenset(
        """o a os as e é de do da dos das que para com não uma um você seu sua nós nosso nossa muito
        obrigado obrigada em no na mas por ao pelo pela está lamentamos ficamos""".split()
    ),
}


def _languages_of_words() -> dict[str, tuple[str, ...]]:
    """Each listed word and the languages that list it."""
    index: dict[str, tuple[str, ...]] = {}
    for language in LANGUAGES:
        for word in sorted(_STOPWORDS[language]):
            index[word] = (*index.get(word, ()), language)
    return index


_LANGUAGES_OF = _languages_of_words()

# Words, keeping an inner apostrophe (n'hésitez); digits and underscores are not words here.
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _words(text: str) -> list[str]:
    normal = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return _WORD.findall(normal)


def language_scores(text: str) -> dict[str, float]:
    """Each known language's weighted count of function words in ``text`` (every language listed)."""
    scores = dict.fromkeys(LANGUAGES, 0.0)
    for word, count in Counter(_words(text)).items():
        languages = _LANGUAGES_OF.get(word, ())
        for language in languages:
            scores[language] += count / len(languages)
    return scores


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of ``text``'s language among ``LANGUAGES``, or ``None`` when unsure."""
    ranked = sorted(language_scores(text).items(), key=lambda item: (-item[1], item[0]))
    (best, best_score), (_, second_score) = ranked[0], ranked[1]
    if best_score < MIN_SCORE or best_score < MIN_LEAD * second_score:
        return None
    return best
