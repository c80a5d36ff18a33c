"""Episode structure: which sentences are show furniture (intros, bios, ads, house promos, sign-offs).

None of it may become an insight. Found by cue, by position (intros at the start, sign-offs at the
end), by speaker turn (a short turn that ends on a question is the host asking, not a takeaway) and
by `podcast:chapters` titles when the feed has them. Every cue here is generic podcast furniture seen
across the real dev set (Changelog, Podcasting 2.0, Podnews, Rev16 shows), not one show's wording.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from podbrief_rank import features
from podbrief_rank.segmentation import Sentence

_I = re.IGNORECASE

# Intros and bios: anywhere in the episode (guests are introduced after a cold open, or after a break).
_INTRO = re.compile(
    r"\bwelcome (?:back )?(?:to|on) (?:the |this |our )?\w+|\bwelcome back\b|\bwelcome,? everybody\b"
    r"|\b(?:hey|hi|hello),? (?:everyone|everybody|folks|friends|there|and welcome)\b"
    r"|\bi'?m your host\b|\bmy name is\b|\byour hosts? (?:are|is|today)\b|\bthis is episode\b|\bepisode (?:number )?#?\d+\b"
    r"|\b(?:joining (?:me|us)|(?:i'?m|we'?re|i am|we are) joined by|my (?:guest|co-?host)s?|our (?:guest|co-?host)s?)\b"
    r"|\bwith (?:me|us) (?:today|now|here|again)\b"
    r"|\b(?:you may know|people (?:may|might) know) (?:him|her|them|you)\b"
    r"|\b(?:you|he|she) (?:were|was) on (?:episode|the show)\b"
    r"|\bthanks? (?:you )?(?:so much )?for (?:having (?:me|us)|coming on|joining (?:me|us)|being (?:here|on))\b"
    r"|\b(?:good|great|nice) to (?:have you|see you|be here|be back)\b|\bhow(?:'s| is| are) (?:it going|you doing|things)\b"
    r"|\b(?:today|this week|on (?:this|today'?s) (?:episode|show)),? (?:we(?:'re| are| will|'ll)|i(?:'m| am| will|'ll)) "
    r"(?:going to |gonna )?"
    r"(?:talk|talking|chat|chatting|discuss|discussing|speak|speaking|be joined|have)\b"
    r"|\blet'?s (?:just )?(?:jump|dive|get) (?:right )?(?:in|into|started)\b|\bwithout further ado\b",
    _I,
)
# House promos and listener support: the show advertising itself.
_PROMO = re.compile(
    r"\bsubscribe (?:to )?(?:the|our|this|my) (?:show|podcast|channel|feed|newsletter)\b|\bhit subscribe\b"
    r"|\brate (?:and|&) review\b|\bleave (?:us )?a (?:review|rating|comment)\b|\bpatreon\b|\bour newsletter\b"
    r"|\bsign up (?:at|for (?:our|the|my))\b|\bsupport (?:the|this|our) (?:show|podcast|work)\b|\bshow ?notes\b"
    r"|\blinks? (?:is |are )?in the (?:show ?notes|description|episode notes)\b"
    r"|\bjoin (?:us|our|the) (?:community|slack|discord|membership|club|mailing list)\b|\bmembers? (?:get|have)\b"
    r"|\btell (?:a|your) friends?\b|\bshare (?:this|the) (?:show|episode|podcast)\b|\bcheck out (?:our|my) \w+"
    r"|\bboostagrams?\b|\bthanks? (?:you )?[^.!?]{0,60}\bfor (?:the|your|their) (?:boost|donation|support|sats)\b"
    r"|\bour (?:course|merch|store|shop)\b|\b(?:follow|find) (?:us|me) on\b",
    _I,
)
# Sign-offs: only near the end, where they close the show.
_SIGN_OFF = re.compile(
    r"\bthanks? (?:you )?(?:so much |all )?for (?:listening|tuning in|joining us|coming on|having me|being here|watching)\b"
    r"|\b(?:see|talk to|catch|hear) you (?:all |guys )?(?:next|soon|later|again|then)\b|\buntil next time\b"
    r"|\bthat'?s (?:it|all|our show)\b|\bbye\b|\bgoodbye\b|\btake care\b|\bhave a (?:good|great) (?:one|week|day|weekend)\b",
    _I,
)
# A chapter is furniture when its title is (or opens with) one of these words: "Intro", "Sponsor: Acme", "Outro & thanks";
# not "Intro to vector databases" or "Google Ads antitrust ruling".
_FURNITURE_CHAPTER = re.compile(
    r"^\W*(?:intro(?:duction)?|opening|cold open|welcome|sponsors?|ads?|advert\w*|promo\w*|housekeeping|outro|closing|credits|"
    r"boost\w*|supporters?|thank(?:s| you)|patreon|announcements?|listener mail|value ?(?:4|for) ?value|v4v|break|trailer)"
    r"(?:$|\s*[:&,(-]|\s+(?:and|&)\s)",
    _I,
)
_END_SHARE = 0.12  # sign-offs live in the last 12% of an episode


@dataclass(frozen=True)
class Chapter:
    """A `podcast:chapters` entry: where it starts and ends, and its title."""

    start: float
    end: float | None
    title: str


def furniture(sentences: Sequence[Sentence], chapters: Sequence[Chapter] = ()) -> list[str | None]:
    """For each sentence, why it is show furniture ("intro", "ad", "promo", "sign-off", "question", "chapter"), else None."""
    if not sentences:
        return []
    reasons: list[str | None] = [None] * len(sentences)
    ads = features.ad_flags([s.text for s in sentences])
    end = sentences[-1].end
    for i, s in enumerate(sentences):
        if ads[i]:
            reasons[i] = "ad"
        elif _PROMO.search(s.text):
            reasons[i] = "promo"
        elif _INTRO.search(s.text):
            reasons[i] = "intro"
        elif s.end >= end * (1.0 - _END_SHARE) and _SIGN_OFF.search(s.text):
            reasons[i] = "sign-off"
    for i in _question_turns(sentences):
        reasons[i] = reasons[i] or "question"
    ordered = sorted(chapters, key=lambda c: c.start)
    for n, chapter in enumerate(ordered):
        if not _FURNITURE_CHAPTER.search(chapter.title.strip()):
            continue
        # A chapter without an end runs to the next chapter's start (the last one to the end of the episode).
        stop = chapter.end if chapter.end is not None else (ordered[n + 1].start if n + 1 < len(ordered) else end + 1.0)
        for i, s in enumerate(sentences):
            if chapter.start <= s.start < stop:
                reasons[i] = reasons[i] or "chapter"
    return reasons


def chapter_at(chapters: Sequence[Chapter], seconds: float) -> str | None:
    """The title of the chapter `seconds` falls in, if any."""
    title = None
    ordered = sorted(chapters, key=lambda c: c.start)
    for n, chapter in enumerate(ordered):
        if chapter.start > seconds:
            break
        stop = chapter.end if chapter.end is not None else (ordered[n + 1].start if n + 1 < len(ordered) else None)
        title = (chapter.title or None) if stop is None or seconds < stop else None
    return title


def _question_turns(sentences: Sequence[Sentence]) -> list[int]:
    """Sentences of turns that end on a question and are short: an interviewer asking, which is never a takeaway.

    Only where speakers are known: without turns a question may be rhetorical, followed by its own answer.
    """
    by_turn: dict[int, list[Sentence]] = {}
    for s in sentences:
        if s.speaker is not None:
            by_turn.setdefault(s.turn, []).append(s)
    out: list[int] = []
    for run in by_turn.values():
        n_words = sum(s.words for s in run)
        asks = sum(features.is_question(s.text) for s in run)
        # A guest's point that ends on "..., right?" is not a question turn: most of it must ask, or it must be short.
        if features.is_question(run[-1].text) and (n_words <= 30 or 2 * asks > len(run)):
            out.extend(s.index for s in run)
    return out
