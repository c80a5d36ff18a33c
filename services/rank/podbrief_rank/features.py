"""Text features of a sentence or passage, each a plain function returning a number in 0..1 (or a flag).

They say how much a piece of speech looks like a takeaway: a claim with specifics that
stands on its own, as opposed to a greeting, banter, a question or an advertisement.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

_FLAGS = re.IGNORECASE

# Sponsor lines: these are never insights, whatever else they score.
_AD = re.compile(
    r"\bbrought to you by\b"
    r"|\b(?:supported|sponsored|presented|underwritten) by\b"
    r"|\b(?:today'?s|our|this (?:episode|show|podcast)'?s?) sponsors?\b"
    r"|\b(?:promo|promotional|offer|discount|coupon) code\b"
    r"|\b\d+\s?(?:%|percent) off\b"
    r"|\b(?:go|head|head over|visit|check out)(?: to)? \S+ (?:dot|\.) ?(?:com|io|co|org|net)\b"
    r"|\bdot com slash\b|\b[\w-]+\.com/\w+"
    r"|\bfree trial\b"
    r"|\bget (?:\w+ ){0,4}free\b"
    r"|\blink in the (?:show notes|description)\b",
    _FLAGS,
)

# "Use code X" is an ad only next to an offer; "teams that use code review" is not.
_CODE = re.compile(r"\b(?:use|enter|with) (?:the )?code\b", _FLAGS)
_OFFER = re.compile(r"\b(?:off|free|discount|checkout|trial|deal|save)\b", _FLAGS)

# The sponsor a read introduces ("brought to you by Acme Mattress"): later lines naming it belong to the ad.
_SPONSOR = re.compile(r"(?i:brought to you by|(?:supported|sponsored|presented|underwritten) by)\s+((?:[A-Z][\w'&-]*\s?){1,4})")

# Greetings and banter (show furniture such as intros, promos and sign-offs is found in structure.py).
_CHIT_CHAT = re.compile(
    r"\bwelcome (?:back )?to\b|\bwelcome back\b|\b(?:hey|hi|hello) (?:everyone|everybody|there|folks|and welcome)\b"
    r"|^(?:hey|hi|hello)\b|\bgood (?:morning|afternoon|evening)\b"
    r"|\bthanks? (?:you )?(?:so much )?for (?:listening|tuning in|joining|hanging out|having me)\b"
    r"|\b(?:see|talk to|catch) you (?:all )?(?:next|soon|later)\b|\bbye\b|\bgoodbye\b"
    r"|\bthat'?s (?:our show|all we have)\b|\bwe'?re back\b|\bquick break\b"
    r"|\blet'?s (?:just )?(?:jump|dive|get) (?:right )?(?:in|into|started)\b|\blet'?s (?:start|begin) with\b"
    r"|\btell a friend\b|\bsubscribe\b|\bleave (?:us )?a review\b|\bco-?host\b|\bthis (?:episode|week) we\b"
    r"|\btoday (?:we are|we're) talking about\b|\btoday is all about\b"
    r"|\bthat'?s a (?:great|good) (?:point|question)\b|\b(?:i|we) (?:totally|definitely) (?:agree|feel)\b"
    r"|\bget this\b|\blisten to this\b|\bwithout further ado\b",
    _FLAGS,
)

# Signposts: a host announcing what comes next says nothing by itself.
_SIGNPOST = re.compile(
    r"^(?:(?:and|so|okay|um|uh|well|alright)[,\s]+)*(?:first up|first of all|next up|finally|and finally|"
    r"(?:our |my )?(?:first|second|third|next|last|final) (?:story|point|topic|thing|item)\b|"
    r"one (?:more|last|final) thing|here is (?:the thing|one)|here'?s (?:the thing|one)|moving on|"
    r"let'?s (?:start|begin|talk|move|turn)|now (?:the|for|on to)|so now\b|another \w+(?: \w+)? (?:finding|story|study|one)\b)",
    _FLAGS,
)

# Words a reply opens with; a passage starting with one leans on what came before.
_BACKCHANNEL = re.compile(r"^(?:yeah|yes|right|okay|ok|alright|exactly|totally|sure|wow|oh|well|mm+|hmm+|um+|uh+)\b", _FLAGS)
# Openers that point back at something the listener has not heard in the passage.
_DANGLING = re.compile(
    r"^(?:that|this|these|those|it|its|it's|he|she|they|them|his|her|their|which|also|another|"
    r"the (?:same|other|latter|former)|such)\b",
    _FLAGS,
)
# "It's hard to..." / "It is important that..." is a dummy subject, not a reference.
_DUMMY_IT = re.compile(r"^it(?:'s| is| was| can be| will be| would be)(?: \w+){0,2}? (?:to|that|when|how|why)\b", _FLAGS)
# Openers that continue or contrast a point made before the passage.
_CONTINUING = re.compile(
    r"^(?:except|however|whereas|yet|also|plus|otherwise|instead|still|either|neither|as well|too|for example|"
    r"for instance|up from|down from)\b",
    _FLAGS,
)
# A demonstrative used as a pronoun ("Most people don't see this, but...", "that's why"): its referent came before.
_ANAPHORIC_DEMONSTRATIVE = re.compile(
    r"\b(?:this|that|these|those)(?=\s*(?:[,.;:!?]|$|\s(?:is|was|are|were|'s|means|meant|does|did|will|would|can|could|happens|"
    r"happened|goes|went|one|ones|stuff|thing|way)\b))|\b(?:that|this)'s\b",
    _FLAGS,
)
# "Because ..." with no main clause after a comma answers a question asked before the passage.
_ANSWER_BECAUSE = re.compile(r"^(?:because|cause|'cause)\b[^,]*$", _FLAGS)
# A sentence that opens on a capitalised name ("Altman said he...") names whom "he" means.
_NAMED_OPENER = re.compile(
    r"^(?!(?:The|A|An|This|That|These|Those|It|I|We|You|They|He|She|So|And|But|Or|Well|Yeah|Now|Then|There|Here)\b)[A-Z][\w'-]+"
)
_THIRD_PERSON = re.compile(r"\b(?:he|she|him|his|her|hers)\b", _FLAGS)
# "this comedian ... he", "my friend ... she": a person named by a noun resolves the pronoun as well as a name does.
_PERSON_NOUN = re.compile(
    r"\b(?:a|an|the|this|that|my|our|your|his|her|their|one)\s+(?:\w+\s+)?(?:guy|man|woman|person|friend|boss|comedian|"
    r"host|guest|founder|co-?founder|ceo|cto|engineer|developer|designer|author|writer|producer|editor|reporter|"
    r"journalist|doctor|teacher|professor|researcher|scientist|manager|owner|listener|customer|client|user|kid|son|"
    r"daughter|wife|husband|mother|father|mom|dad|brother|sister|partner|colleague|coworker|boyfriend|girlfriend|"
    r"artist|musician|singer|player|coach|lawyer|investor|employee|student|speaker|presenter|creator|podcaster)s?\b",
    _FLAGS,
)
_CONJUNCTION = re.compile(r"^(?:and|but|or|so|because|then|plus)\b", _FLAGS)
_FILLER_PREFIX = re.compile(r"^(?:(?:um+|uh+|erm|so yeah|you know|i mean|like|and|but|so|well|okay|yeah|right)[,\s]+)+", _FLAGS)

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    "eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|"
    "trillion|half|third|quarter|twice|double|triple|dozen"
)
_NUMBER = re.compile(rf"\b\d[\d,.]*\b|%|\b(?:{_NUMBER_WORDS})\b", _FLAGS)
_UNIT = re.compile(
    r"\b(?:percent|per ?cent|dollars?|euros?|pounds|cents?|hours?|minutes?|seconds?|days?|weeks?|months?|years?|decades?|"
    r"times|gigawatts?|megawatts?|kilowatts?|watts?|miles?|kilometers?|kilograms?|tons?|people|users|companies)\b",
    _FLAGS,
)
_ACRONYM = re.compile(r"\b[A-Z]{2,}s?\b")
_TOKEN = re.compile(r"\S+")

# Cue families of a claim: comparison/quantity, cause/condition, prediction, contrast, advice, generalisation.
_CLAIM_CUES = (
    re.compile(
        r"\b(?:more|less|fewer|most|least|than|twice|half|majority|minority|better|worse|faster|slower|"
        r"cheaper|bigger|smaller|higher|lower|rarely|almost|nearly|roughly|about|around)\b",
        _FLAGS,
    ),
    re.compile(
        r"\b(?:because|since|so that|therefore|which means|means|leads? to|causes?|due to|as a result|"
        r"if|unless|when|whenever|even when|even if|instead of|without)\b",
        _FLAGS,
    ),
    re.compile(
        r"\b(?:will|would|could|may|might|should|must|can|expect|likely|predict|by (?:19|20)\d\d|"
        r"by the end of|next (?:year|decade)|make sure|try to|don'?t|never|always)\b",
        _FLAGS,
    ),
    re.compile(r"\b(?:but|yet|however|although|even though|whereas|instead|actually|in fact)\b", _FLAGS),
    re.compile(r"\b(?:before you|so (?:read|check|make|try|take|avoid|protect|ask|keep|use|start|stop))\b", _FLAGS),
    re.compile(r"\b(?:people|companies|teams|workers|most|every|many|studies|research|data|projects|models|users)\b", _FLAGS),
)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|myself)\b", _FLAGS)
_WORD = re.compile(r"[A-Za-z0-9']+")


def words(text: str) -> list[str]:
    """The words of `text` (letters, digits and apostrophes)."""
    return _WORD.findall(text)


def is_ad(sentence: str) -> bool:
    """True for sponsor lines: "brought to you by", promo codes, "go to x dot com"."""
    return bool(_AD.search(sentence) or (_CODE.search(sentence) and _OFFER.search(sentence)))


def ad_flags(sentences: Sequence[str]) -> list[bool]:
    """Which sentences of an episode belong to ad reads: sponsor lines, and any sentence naming an announced sponsor."""
    flags = [is_ad(s) for s in sentences]
    sponsors = {m.group(1).strip() for s in sentences for m in _SPONSOR.finditer(s)}
    sponsors = {name for name in sponsors if len(name) >= 3}
    if not sponsors:
        return flags
    named = re.compile("|".join(rf"\b{re.escape(name)}\b" for name in sorted(sponsors)), _FLAGS)
    return [flag or bool(named.search(s)) for flag, s in zip(flags, sentences, strict=True)]


# Transcripts often drop the question mark: an auxiliary verb or wh-word before a subject asks all the same.
_ASKS = re.compile(
    r"^(?:(?:and|so|but|okay|well|yeah|um|uh)[,\s]+)*(?:do|does|did|are|is|were|was|can|could|would|will|have|has|should)"
    r"\s+(?:you|we|they|i|it|there|he|she|y'all|your)\b",
    _FLAGS,
)


def is_question(sentence: str) -> bool:
    """True when the sentence asks rather than tells."""
    text = sentence.strip()
    return text.endswith("?") or bool(_ASKS.match(text))


def chit_chat(sentence: str) -> float:
    """How much the sentence is greeting, sign-off, show logistics or personal banter (0 = none, 1 = all)."""
    if _CHIT_CHAT.search(sentence):
        return 1.0
    if _SIGNPOST.search(sentence.strip()) and len(words(sentence)) <= 14:
        return 0.8
    tokens = words(sentence)
    if not tokens:
        return 1.0
    first_person = len(_FIRST_PERSON.findall(sentence)) / len(tokens)
    short_reply = 0.5 if len(tokens) <= 6 and not _NUMBER.search(sentence) else 0.0
    return min(1.0, short_reply + 4.0 * first_person)


def opens_reply(sentence: str) -> bool:
    """True when the sentence opens like a reply ("Yeah, ...", "Right, ..."): a new speaker's turn, most likely."""
    return bool(_BACKCHANNEL.match(sentence.lstrip(" ,.-")))


def opens_on_reference(text: str) -> bool:
    """True when the passage's first sentence leans on something said before it.

    A dangling pronoun or demonstrative opener ("That's why...", "They only learn about it..."), a
    continuing connective ("Except many companies..."), a demonstrative pronoun in the first clause
    ("Most people don't see this, but..."), or "he"/"she" with no name before it in the passage.
    """
    opening = _FILLER_PREFIX.sub("", text.lstrip(" ,.-\"'")).lstrip(" ,")
    if _DANGLING.match(opening) and not _DUMMY_IT.match(opening):
        return True
    if _CONTINUING.match(opening) or _CONTINUING.match(text.lstrip(" ,.-\"'")):
        return True
    first_clause = re.split(r"[,;:.!?]|\s(?:but|because|and so)\s", opening, maxsplit=1)[0]
    if _ANAPHORIC_DEMONSTRATIVE.search(first_clause):
        return True
    if _ANSWER_BECAUSE.match(opening):
        return True
    pronoun = _THIRD_PERSON.search(text)
    if not pronoun:
        return False
    before = text[: pronoun.start()]
    return _proper_names(before) == 0 and not _NAMED_OPENER.match(before.strip()) and not _PERSON_NOUN.search(before)


def self_containedness(text: str) -> float:
    """1 when the passage opens on its own subject; lower when it opens with a reply word, conjunction or dangling pronoun."""
    opening = text.lstrip(" ,.-")
    score = 1.0
    if _BACKCHANNEL.match(opening):
        score -= 0.3
    core = _FILLER_PREFIX.sub("", opening)
    if _DANGLING.match(core):
        score -= 0.6
    elif _CONJUNCTION.match(opening):
        score -= 0.2
    return max(0.0, score)


_CLUTTER = re.compile(
    r"\b(?:um+|uh+|erm|mm-?hmm|uh-?huh)\b|(?:^|,\s*)like,|\byou know\b|\bi mean\b|\b(?:sort|kind) of\b|\s(?:--|—)\s"
    r"|\b(\w+),?\s+\1\b",
    _FLAGS,
)


# The fillers INSIGHTS.md counts: a reader notices more than one per 40 words.
_FILLER_MARKS = re.compile(r"\b(?:um+|uh+|you know|i mean|like,)", _FLAGS)


def reads_cluttered(text: str) -> bool:
    """True when the text still carries more than one filler ("um", "you know", "I mean", "like,") per 40 words."""
    return len(_FILLER_MARKS.findall(text)) > len(text.split()) / 40


# Quoted speech ("he asked, "what runs when?"") is reported, not asked.
_QUOTED = re.compile(r"\"[^\"]*\"|\u201c[^\u201d]*\u201d")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def asks(text: str) -> bool:
    """True when any sentence of the passage, outside quotation marks, is a question."""
    return any(is_question(s) for s in _SENTENCE_END.split(_QUOTED.sub("", text)) if s.strip())


def clutter(text: str) -> float:
    """How cluttered the spoken passage is: fillers, hedges, false starts and repeats per word, 0 (clean) to 1.

    One such mark per 40 words is ordinary speech; from one per 10 words the passage reads as transcript mess
    even after clean-up.
    """
    n_words = len(words(text))
    if not n_words:
        return 1.0
    rate = len(_CLUTTER.findall(text)) / n_words
    return float(min(1.0, max(0.0, (rate - 1 / 40) / (1 / 10 - 1 / 40))))


def specificity(text: str) -> float:
    """How concrete the passage is: numbers, units, names and acronyms, saturating towards 1."""
    numbers = len(_NUMBER.findall(text))
    units = len(_UNIT.findall(text))
    names = len(_ACRONYM.findall(text)) + _proper_names(text)
    evidence = 0.6 * min(numbers, 3) + 0.3 * min(units, 3) + 0.35 * min(names, 3)
    return 1.0 - math.exp(-evidence)


def claim_likeness(text: str) -> float:
    """Claim cue families present, saturating at three: comparison, cause/condition, prediction, contrast, advice, generality."""
    hits = sum(1 for cue in _CLAIM_CUES if cue.search(text))
    return min(1.0, hits / 3.0)


def length_fit(n_words: int) -> float:
    """1 for 30–70 words, ramping up from 12 and down to 0 at 110: a takeaway is one to three sentences."""
    if n_words <= 12:
        return 0.0
    if n_words < 30:
        return (n_words - 12) / 18.0
    if n_words <= 70:
        return 1.0
    return max(0.0, 1.0 - (n_words - 70) / 40.0)


def _proper_names(text: str) -> int:
    """Capitalised words that do not open a sentence (and are not "I"): names of people, places, products."""
    count, sentence_start = 0, True
    for token in _TOKEN.findall(text):
        word = token.strip("\"'()[],;:")
        if not sentence_start and word[:1].isupper() and word[1:2].islower() and word not in ("I", "I'm"):
            count += 1
        sentence_start = token[-1:] in ".!?"
    return count
