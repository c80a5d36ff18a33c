#!/usr/bin/env python3
"""Regenerate the sample metadata from scripts/ and audio/ (stdlib only).

Writes feed.xml, feed2.xml, takeaways.json, chapters/epN.json and cover.png next to this file.
Run after render.sh whenever a script or the audio changes:

    samples/render.sh && python3 samples/build_meta.py

Every planted takeaway, ad read and chapter opening is checked to appear verbatim in its script.
Chapter start times are measured on the rendered audio (see CHAPTERS below): re-measure them
after re-rendering.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent

ACME_AD = ("This episode is brought to you by Acme Mattress. "
           "Use promo code SIGNAL for 20 percent off at acme dot com.")

# `podcast:person`s (Podcasting 2.0). The scripts are the host talking with "my co-host" and
# name nobody, so the names are made up. Open Weights Weekly re-broadcasts Signal Hour audio:
# its items name the voices actually heard, which replaces the channel's host for them.
SIGNAL_HOUR_PEOPLE = [("Nora Alvarez", "host"), ("Sam Whitfield", "co-host")]
OPEN_WEIGHTS_PEOPLE = [("Priya Raman", "host")]
REBROADCAST_PEOPLE = [("Nora Alvarez", "guest"), ("Sam Whitfield", "guest")]

# `podcast:chapters` per episode: (start seconds, title, the words the chapter opens on).
# Starts are 1 s before the opening word as faster-whisper (tiny.en, word timestamps) hears it
# in the rendered audio: early rather than late, because rank places a sentence by times it
# interpolates inside ASR segments. Furniture chapters (Welcome, Sponsor, Outro) are titled so
# that rank recognises them.
CHAPTERS = {
    "ep1": [
        (0.0, "Welcome", "Hey everyone, and welcome back"),
        (25.5, "A code leak and the model weights", "So the big story this week"),
        (50.0, "Open weight models for small companies", "Yeah, and that connects to our second point"),
        (68.7, "Sponsor: Acme Mattress", "This episode is brought to you by Acme Mattress"),
        (77.1, "Open source maintainers", "Okay, back to the show"),
        (109.5, "Outro", "Okay, that's it for today"),
    ],
    "ep2": [
        (0.0, "Welcome", "Hello and welcome to The Signal Hour"),
        (18.6, "Short sleep and mistakes at work", "Let's start with sleep"),
        (31.8, "A fixed wake up time", "Um, I definitely feel called out"),
        (50.8, "Sponsor: Brightline Coffee", "Quick break"),
        (61.7, "Data centers and electricity", "Alright, we're back"),
        (79.8, "Cloud companies buying solar and wind", "Yeah, that number surprised me"),
        (98.6, "Outro", "So yeah, sleep well"),
    ],
    "ep3": [
        (0.0, "Welcome", "Hi there, welcome to another episode"),
        (18.4, "Why a code leak barely hurts", "First up, the leak everyone keeps asking us about"),
        (45.2, "Sponsor: Acme Mattress", "This episode is brought to you by Acme Mattress"),
        (53.7, "Data centers and the power grid", "Okay, story number two"),
        (79.4, "Paying open source maintainers", "And finally, some good news for open source"),
        (105.3, "Outro", "So yeah, that's all we have time for"),
    ],
    "ep4": [
        (0.0, "Welcome", "Good morning, good afternoon, or good evening"),
        (19.4, "Writing decisions down instead of meeting", "Let's begin with meetings"),
        (33.8, "Short sleep and mistakes at work", "Um, I believe it"),
        (55.6, "Sponsor: Nimbus Cloud Backup", "This show is supported by Nimbus Cloud Backup"),
        (65.3, "Real lunch breaks", "Okay, we're back"),
        (81.0, "Open model licenses", "And, um, one last thing for the open source fans"),
        (98.3, "Outro", "So yeah, that's it for this episode"),
    ],
}

EPISODES = {
    "ep1": {
        "title": "Leaks, Open Weights and Tired Maintainers",
        "pub": datetime(2026, 11, 3, 9, 0, tzinfo=UTC),
        "description": "A code leak at an AI company, what open weight models "
                       "mean for small businesses, and the handful of people "
                       "who keep open source running.",
        "takeaways": [
            "When an AI company's source code leaks, it can be copied around the world "
            "in minutes, but the trained model weights are what actually stay protected. "
            "The code is the recipe, and the weights are the finished meal.",
            "Open weight models now let a small company run a capable chat assistant on "
            "a single graphics card that costs about two thousand dollars, instead of "
            "paying a cloud provider every single month.",
            "Most open source projects depend on fewer than five active maintainers, so a "
            "single person burning out can stall software that thousands of companies "
            "rely on every day.",
        ],
        "ad_read": ACME_AD,
    },
    "ep2": {
        "title": "Sleep, Energy and the Way We Work",
        "pub": datetime(2026, 11, 10, 9, 0, tzinfo=UTC),
        "description": "Short sleep and workplace errors, why a fixed wake up time "
                       "matters, and how much electricity data centers will need.",
        "takeaways": [
            "People who sleep less than six hours a night make roughly thirty percent more "
            "errors at work the next day, even when they say they feel completely fine.",
            "Keeping the same wake up time every day, including weekends, helps your body "
            "clock more than going to bed early on just a few nights of the week.",
            "Data centers could use around eight percent of all the electricity in the "
            "United States by 2030, mostly because of the computer chips used to train "
            "and run large AI models.",
            "Big cloud companies signed contracts for more than twenty gigawatts of new "
            "solar and wind power last year, which is more than any other group of buyers "
            "in the world.",
        ],
        "ad_read": "This episode is supported by Brightline Coffee. Go to brightline dot com "
                   "and use code HOUR to get your first bag free.",
    },
    "ep3": {
        "title": "Weights, Watts and Code",
        "pub": datetime(2026, 11, 17, 9, 0, tzinfo=UTC),
        "description": "Why a source code leak barely hurts an AI company, the power "
                       "appetite of American data centers, and paying open source "
                       "maintainers.",
        "takeaways": [
            "A leak of source code travels across the internet almost instantly, yet it "
            "rarely hurts an AI company very much, because the real value is in the "
            "trained weights, and the weights never left the building.",
            "By the end of this decade, American data centers may use close to eight "
            "percent of the national power supply, and AI chips are the main reason for "
            "that growth.",
            "When a company pays for even one full time maintainer of the open source tools "
            "it depends on, security fixes get released about twice as fast as in projects "
            "run only by volunteers.",
        ],
        "ad_read": ACME_AD,
    },
    "ep4": {
        "title": "Remote Work, Rest and Open Models",
        "pub": datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
        "description": "Writing decisions down instead of meeting, what short sleep "
                       "does to your work, real lunch breaks, and open model licenses.",
        "takeaways": [
            "Remote teams who write down their decisions in a shared document spend about "
            "four fewer hours a week in meetings than teams who decide everything on video "
            "calls.",
            "If you get under six hours of sleep, expect to make about a third more "
            "mistakes on the job the next day, and you probably won't even notice it "
            "yourself.",
            "Workers who take a real lunch break away from their screen report about twenty "
            "percent less stress at the end of the week than people who eat at their desk.",
            "Open weight models are free to download, but many of them come with licenses "
            "that limit commercial use, so read the license carefully before you build a "
            "product on one.",
        ],
        "ad_read": "This show is supported by Nimbus Cloud Backup. Head to nimbus dot com "
                   "slash signal and get three months free.",
    },
}

# Takeaways that state the same idea in different words (dedup must merge them).
SAME_IDEA = [
    {"same_idea": [["ep1", 0], ["ep3", 0]],
     "idea": "leaked source code spreads fast but the trained weights stay protected"},
    {"same_idea": [["ep2", 0], ["ep4", 1]],
     "idea": "under six hours of sleep means about 30 percent more mistakes at work"},
    {"same_idea": [["ep2", 2], ["ep3", 1]],
     "idea": "data centers may use about 8 percent of US electricity by 2030 because of AI chips"},
]
# Same topic but a different claim (dedup must NOT merge them).
RELATED_NOT_SAME = [
    {"related": [["ep1", 2], ["ep3", 2]], "topic": "open source maintainers"},
    {"related": [["ep1", 1], ["ep4", 3]], "topic": "open weight models"},
    {"related": [["ep2", 0], ["ep2", 1]], "topic": "sleep"},
    {"related": [["ep2", 2], ["ep2", 3]], "topic": "energy use of cloud and AI"},
    {"related": [["ep4", 0], ["ep4", 2]], "topic": "remote work"},
]

# "Open Weights Weekly" (feed2.xml) re-publishes two Signal Hour recordings.
FEED2_ITEMS = [
    {"guid": "open-weights-weekly-101", "audio": "ep3",
     "title": "Leaks Don't Leak the Weights",
     "pub": datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
     "description": "We rebroadcast a segment on code leaks, data center power "
                    "and funding open source maintainers."},
    {"guid": "open-weights-weekly-102", "audio": "ep4",
     "title": "Licenses, Lunch Breaks and Short Sleep",
     "pub": datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
     "description": "A rebroadcast on remote work habits, sleep and the fine print "
                    "of open model licenses."},
]


def mp3_duration(path: Path) -> float:
    """Duration of an MPEG audio file by walking its frame headers (no ID3 support needed
    for lame --noreplaygain output, but a leading ID3v2 tag is skipped anyway)."""
    data = path.read_bytes()
    pos = 0
    if data[:3] == b"ID3":
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        pos = 10 + size
    bitrates = {  # kbps for Layer III: MPEG-1, MPEG-2/2.5
        1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
        2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    }
    rates = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}
    samples = 0.0
    first = True
    while pos + 4 <= len(data):
        h = int.from_bytes(data[pos:pos + 4], "big")
        if (h >> 21) & 0x7FF != 0x7FF:
            pos += 1
            continue
        ver = (h >> 19) & 3          # 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
        layer = (h >> 17) & 3        # 1 = Layer III
        br_i = (h >> 12) & 0xF
        sr_i = (h >> 10) & 3
        if ver == 1 or layer != 1 or br_i in (0, 15) or sr_i == 3:
            pos += 1
            continue
        br = bitrates[1 if ver == 3 else 2][br_i] * 1000
        sr = rates[ver][sr_i]
        pad = (h >> 9) & 1
        per_frame = 1152 if ver == 3 else 576
        length = (144 if ver == 3 else 72) * br // sr + pad
        if first:  # lame's Xing/Info frame carries no audio
            first = False
            if b"Xing" in data[pos:pos + 64] or b"Info" in data[pos:pos + 64]:
                pos += length
                continue
        samples += per_frame / sr
        pos += length
    return samples


def hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def write_cover(path: Path, size: int = 64, rgb=(0x1F, 0x6F, 0x8B)) -> None:
    row = b"\x00" + bytes(rgb) * size
    raw = row * size

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9))
           + chunk(b"IEND", b""))
    path.write_bytes(png)


def people_xml(people, indent: str) -> str:
    return "".join(f'{indent}<podcast:person role="{role}">{escape(name)}</podcast:person>\n'
                   for name, role in people)


def chapters_json(ep: str, duration: float) -> str:
    script = " ".join((HERE / "scripts" / f"{ep}.txt").read_text().split())
    starts = [start for start, _, _ in CHAPTERS[ep]]
    if starts != sorted(starts) or starts[0] != 0 or starts[-1] >= duration:
        sys.exit(f"{ep}: chapter starts must rise from 0 and stay within the audio: {starts}")
    for _, title, opening in CHAPTERS[ep]:
        if opening not in script:
            sys.exit(f"{ep}: chapter {title!r} opens on words not in the script: {opening!r}")
    chapters = [{"startTime": start, "title": title} for start, title, _ in CHAPTERS[ep]]
    return json.dumps({"version": "1.2.0", "chapters": chapters}, indent=2) + "\n"


def item_xml(title, guid, pub, description, audio, dur, length, people=()) -> str:
    return f"""    <item>
      <title>{escape(title)}</title>
      <guid isPermaLink="false">{escape(guid)}</guid>
      <pubDate>{format_datetime(pub)}</pubDate>
      <description>{escape(description)}</description>
      <itunes:duration>{hms(dur)}</itunes:duration>
      <itunes:explicit>false</itunes:explicit>
      <enclosure url="{{{{BASE_URL}}}}/audio/{audio}.mp3" length="{length}" type="audio/mpeg"/>
      <podcast:chapters url="{{{{BASE_URL}}}}/chapters/{audio}.json" type="application/json+chapters"/>
{people_xml(people, "      ")}    </item>
"""


def feed_xml(title, description, podcast_guid, people, items, last_build) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
     xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
  <channel>
    <title>{escape(title)}</title>
    <link>{{{{BASE_URL}}}}/</link>
    <description>{escape(description)}</description>
    <language>en-us</language>
    <lastBuildDate>{format_datetime(last_build)}</lastBuildDate>
    <itunes:author>{escape(title)}</itunes:author>
    <itunes:image href="{{{{BASE_URL}}}}/cover.png"/>
    <itunes:category text="Technology"/>
    <itunes:explicit>false</itunes:explicit>
    <podcast:guid>{podcast_guid}</podcast:guid>
    <podcast:medium>podcast</podcast:medium>
    <podcast:locked>no</podcast:locked>
{people_xml(people, "    ")}{"".join(items)}  </channel>
</rss>
"""


def main() -> int:
    meta = {}
    for ep, info in EPISODES.items():
        script = (HERE / "scripts" / f"{ep}.txt").read_text()
        flat = " ".join(script.split())
        for t in info["takeaways"] + [info["ad_read"]]:
            if t not in flat:
                sys.exit(f"{ep}: not found verbatim in script: {t!r}")
        for t in info["takeaways"]:
            n = len(t.split())
            if not 20 <= n <= 60:
                sys.exit(f"{ep}: takeaway has {n} words: {t!r}")
        mp3 = HERE / "audio" / f"{ep}.mp3"
        meta[ep] = {"bytes": mp3.stat().st_size, "duration_s": round(mp3_duration(mp3), 2),
                    "words": len(script.split())}

    items = [item_xml(i["title"], f"signal-hour-{ep}", i["pub"], i["description"], ep,
                      meta[ep]["duration_s"], meta[ep]["bytes"])
             for ep, i in sorted(EPISODES.items(), key=lambda kv: kv[1]["pub"], reverse=True)]
    (HERE / "feed.xml").write_text(feed_xml(
        "The Signal Hour",
        "Two friends talk through the week in AI, software, energy, sleep and remote work.",
        "0b6a8f4e-5c1d-5e2a-9b7f-3d4c2a1e6f01", SIGNAL_HOUR_PEOPLE, items, EPISODES["ep4"]["pub"]))

    items2 = [item_xml(i["title"], i["guid"], i["pub"], i["description"], i["audio"],
                       meta[i["audio"]]["duration_s"], meta[i["audio"]]["bytes"], REBROADCAST_PEOPLE)
              for i in sorted(FEED2_ITEMS, key=lambda i: i["pub"], reverse=True)]
    (HERE / "feed2.xml").write_text(feed_xml(
        "Open Weights Weekly",
        "A weekly look at open models and the people who build them.",
        "7e2c9d31-4a8b-5f60-8c1e-2b9a7d4f3e02", OPEN_WEIGHTS_PEOPLE, items2, FEED2_ITEMS[-1]["pub"]))
    (HERE / "chapters").mkdir(exist_ok=True)
    for ep in EPISODES:
        (HERE / "chapters" / f"{ep}.json").write_text(chapters_json(ep, meta[ep]["duration_s"]))

    out = {
        "show": "The Signal Hour",
        "episodes": {
            ep: {
                "title": i["title"],
                "guid": f"signal-hour-{ep}",
                "script": f"scripts/{ep}.txt",
                "audio": f"audio/{ep}.mp3",
                "chapters": f"chapters/{ep}.json",
                **meta[ep],
                "takeaways": i["takeaways"],
                "ad_read": i["ad_read"],
            }
            for ep, i in EPISODES.items()
        },
        "groups": SAME_IDEA,
        "related_not_same": RELATED_NOT_SAME,
        "feed2": {
            "show": "Open Weights Weekly",
            "items": [{"guid": i["guid"], "title": i["title"], "same_audio_as": i["audio"]}
                      for i in FEED2_ITEMS],
        },
    }
    (HERE / "takeaways.json").write_text(json.dumps(out, indent=2) + "\n")
    write_cover(HERE / "cover.png")
    for ep, m in meta.items():
        print(f"{ep}: {m['duration_s']:.2f} s, {m['bytes']} bytes, {m['words']} words")
    return 0


if __name__ == "__main__":
    sys.exit(main())
