#!/usr/bin/env python3
"""Held-out scraped-news corpus: real articles wrapped in site junk, with truth.

    python3 heldout_junk.py REALNEWS.jsonl OUT.jsonl TRUTH.jsonl
                            [--seed S] [--copies-rate 0.35] [--sites 25]

REALNEWS.jsonl holds `{"id", "site", "text"}` records whose text is
"Title\\n\\nSubtitle\\n\\nBody" (the format written by realtext.py). Every
article becomes one *original* document on one of `--sites` made-up sites
(`harbourledger.example`, ...). About `--copies-rate` of the originals get
1-3 syndicated *copies* on other sites: a few words changed, deleted or
inserted (at most about one word in 80), sometimes the last paragraph
dropped, sometimes a reworded headline or a different paragraph split.
Copies are placed at random positions after their original.

Every document, original or copy, is then wrapped in junk in the style of
its site: header lines (navigation, breadcrumbs, section labels, dates,
bylines), image captions and credits, share / follow / newsletter / cookie
prompts, advertisement markers, related-link and "most popular" blocks,
author bios, comment counts, tag lists, copyright footers, a teaser that
repeats the lead, and a stray scraper token glued after the last sentence.
Each site draws its templates once, so its pages share one consistent style.

The junk was written without looking at doppel's cleaner, so that measuring
the cleaner on this corpus is a held-out evaluation.

Invariants:
  * junk is only ever a whole line, or a segment glued after the headline or
    after the final sentence of the last paragraph; it never enters a content
    sentence;
  * TRUTH `clean` (headline + paragraphs joined by "\\n\\n") is therefore a
    subsequence of OUT `text`, with identical characters (checked for every
    document before writing);
  * the output is a pure function of the input and `--seed`.

Outputs:
  OUT.jsonl    {"id", "site", "text"}          text: one paragraph a line,
                                                lines separated by "\\n\\n"
  TRUTH.jsonl  {"id", "clean", "copy_of"}      copy_of: the original's id or null

A summary (documents, copies, bytes, junk share of characters, Jaccard of
copies on clean text) is printed to stdout. Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random

# --------------------------------------------------------------------------
# Vocabulary for made-up sites, people and junk text
# --------------------------------------------------------------------------

PLACE_WORDS = [
    "Harbour", "Northgate", "Riverside", "Cedar", "Lakeshore", "Meridian",
    "Summit", "Ironwood", "Prairie", "Granite", "Bayside", "Westfield",
    "Pinecrest", "Highland", "Eastbrook", "Stonebridge", "Coastal", "Redhill",
    "Silverlake", "Fairhaven", "Oakmont", "Brightwater", "Kingsport",
    "Millbrook", "Ashford", "Larkspur", "Thornbury", "Clearwater",
]
PAPER_WORDS = [
    "Ledger", "Courier", "Gazette", "Post", "Herald", "Tribune", "Dispatch",
    "Sentinel", "Observer", "Chronicle", "Times", "Record", "Journal", "Wire",
    "Examiner", "Bulletin", "Beacon", "Review", "Star", "Monitor", "Express",
    "Telegraph", "Daily", "Standard",
]
FIRST_NAMES = [
    "Anna", "Marcus", "Priya", "Tomasz", "Elena", "David", "Grace", "Samuel",
    "Leila", "Owen", "Hannah", "Rafael", "Nadia", "Connor", "Mei", "Julian",
    "Sofia", "Kwame", "Ingrid", "Patrick", "Aisha", "Lucas", "Fiona", "Daniel",
    "Rosa", "Victor", "Claire", "Ibrahim", "Megan", "Stefan", "Yuki", "Brendan",
]
LAST_NAMES = [
    "Whitaker", "Okafor", "Lindqvist", "Moreno", "Hale", "Brennan", "Castillo",
    "Novak", "Thornton", "Iyer", "Fitzgerald", "Adeyemi", "Kowalski", "Park",
    "Delacroix", "Rasmussen", "McAllister", "Haddad", "Sutherland", "Varga",
    "Chen", "Osei", "Ferreira", "Gallagher", "Nakamura", "Petrov", "Quinn",
    "Abernathy", "Santos", "Holm", "Mbeki", "Rowe",
]
AGENCIES = [
    "Reuters", "AP", "AFP", "Getty Images", "EPA", "Bloomberg", "Shutterstock",
    "PA Images", "Xinhua", "Anadolu Agency", "Alamy", "iStock", "Sipa",
    "NurPhoto", "ZUMA Wire",
]
SECTIONS = [
    "News", "World", "Politics", "US", "Europe", "Middle East", "Asia",
    "Business", "Economy", "Opinion", "Analysis", "Nation", "International",
    "Americas", "Africa", "Security", "Government",
]
ROLES = [
    "Staff Writer", "Senior Correspondent", "Political Reporter",
    "Foreign Affairs Editor", "Contributor", "Chief Washington Correspondent",
    "Europe Correspondent", "Digital Producer", "News Editor", "Reporter",
]
BEATS = [
    "national politics", "foreign policy", "the White House", "security",
    "European affairs", "the Middle East", "energy and climate", "immigration",
    "the economy", "courts and justice", "diplomacy", "Congress",
]
CITIES = [
    "Washington", "London", "Brussels", "Moscow", "Berlin", "Paris", "Geneva",
    "New York", "Beijing", "Istanbul", "Kabul", "Dublin", "Tokyo", "Cairo",
]
DOW = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
       "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]
MONTHS_AP = ["Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.",
             "Sept.", "Oct.", "Nov.", "Dec."]

# Orphan tokens a scraper leaves behind (entity names, CMS artefacts).
STRAY_TOKENS = [
    "nbsp", "rsquo", "hellip", "mdash", "ldquo", "xa0", "shy", "zwnj",
    "endofstory", "wpnonce", "lazyload", "inlinead", "tktk", "dropcap",
    "embedcode", "pullquote", "readmore", "jumplink", "adslot", "nofollow",
]

# --------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------

ABBREV = {
    "mr", "mrs", "ms", "dr", "sen", "rep", "gov", "gen", "lt", "col", "st",
    "jr", "sr", "prof", "u.s", "u.n", "u.k", "jan", "feb", "aug", "sept",
    "oct", "nov", "dec", "no", "vs", "inc", "corp", "co", "ltd", "a.m", "p.m",
    "etc", "sgt", "capt", "cmdr", "adm", "maj", "rev", "ft", "mt", "gov't",
    "sens", "reps", "d-mass", "r-ky", "e.g", "i.e", "approx", "dept", "univ", "ave",
}
_BOUNDARY = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"“'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split running text into sentences, guarding common abbreviations."""
    out, start = [], 0
    for m in _BOUNDARY.finditer(text):
        head = text[start:m.start() + 1]
        if head.count('"') % 2 == 1 and len(head) < 600:
            continue               # inside a quotation: not a paragraph break
        last = head.split()[-1] if head.split() else ""
        word = last.rstrip(".!?").lstrip("\"“'(").lower()
        if m.group(0)[0] == "." and (word in ABBREV or re.fullmatch(r"[a-z]", word)
                                     or re.fullmatch(r"(?:[a-z]\.)+[a-z]", word)):
            continue
        sent = text[start:m.end()].strip()
        if sent:
            out.append(sent)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def to_paragraphs(rng: Random, body: str) -> list[str]:
    """Group the sentences of a body into paragraphs of (mostly) 2-4 sentences."""
    sents = split_sentences(" ".join(body.split()))
    paras, i = [], 0
    while i < len(sents):
        k = rng.choices([1, 2, 3, 4], weights=[8, 35, 37, 20])[0]
        paras.append(" ".join(sents[i:i + k]))
        i += k
    return paras


def entities(text: str) -> list[str]:
    """Capitalised multi-word names in `text`, most frequent first."""
    found = re.findall(r"(?<![.!?]\s)\b([A-Z][a-z]+(?: [A-Z][a-z]+){1,2})\b", text)
    stop = {"The", "This", "That", "But", "And", "In", "On", "At", "It", "He",
            "She", "They", "We", "A", "An", "If", "As", "For", "When", "After"}
    found = [e for e in found if e.split()[0] not in stop]
    return [e for e, _ in Counter(found).most_common(8)]


def keywords(text: str) -> list[str]:
    """Capitalised single words frequent in `text`, for tag lists."""
    words = re.findall(r"\b([A-Z][a-z]{3,})\b", text)
    stop = {"This", "That", "There", "They", "Their", "When", "What", "With",
            "After", "Before", "While", "Some", "Many", "However", "Also", "Monday",
            "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
            "Since", "According", "Although", "Because", "These", "Those", "Still"}
    return [w for w, _ in Counter(w for w in words if w not in stop).most_common(6)]


def shingles(text: str, k: int = 5) -> set[tuple[str, ...]]:
    w = text.split()
    return {tuple(w[i:i + k]) for i in range(max(1, len(w) - k + 1))}


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(c in it for c in small)


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

def _h12(d: datetime) -> tuple[int, str]:
    h = d.hour % 12 or 12
    return h, "AM" if d.hour < 12 else "PM"


def fmt_date(style: int, d: datetime) -> str:
    """One of a dozen date/time renderings seen on news pages."""
    h, ap = _h12(d)
    mon, dow = MONTHS[d.month - 1], DOW[d.weekday()]
    if style == 0:
        return f"Published {h}:{d.minute:02d} {ap} ET, {dow[:3]} {mon} {d.day}, {d.year}"
    if style == 1:
        return f"Updated: {d:%Y-%m-%d %H:%M} GMT"
    if style == 2:
        return f"{mon} {d.day}, {d.year} | {h}:{d.minute:02d}{ap.lower()}"
    if style == 3:
        return f"{d:%d/%m/%Y %H:%M}"
    if style == 4:
        return f"{dow[:3]} {d.day} {mon[:3]} {d.year} {d:%H.%M} GMT"
    if style == 5:
        return (f"Posted on {MONTHS_AP[d.month - 1]} {d.day}, {d.year} at "
                f"{h}:{d.minute:02d} {'a.m.' if ap == 'AM' else 'p.m.'}")
    if style == 6:
        return f"{d.day} {mon} {d.year}"
    if style == 7:
        return f"Last updated: {dow}, {d.day} {mon} {d.year}, {d:%H:%M}"
    if style == 8:
        return f"{d:%Y-%m-%dT%H:%M:%S}Z"
    if style == 9:
        return f"{mon[:3]} {d.day}, {d.year} {h}:{d.minute:02d} {ap} EST"
    if style == 10:
        return f"First published on {dow} {d.day} {mon} {d.year} {d:%H.%M} CET"
    return f"{dow}, {mon} {d.day}, {d.year}"


# --------------------------------------------------------------------------
# Sites: every site draws its whole style once
# --------------------------------------------------------------------------

@dataclass
class Site:
    name: str                  # "The Harbour Ledger"
    short: str                 # "Harbour Ledger"
    domain: str                # "harbourledger.example"
    handle: str                # "harbourledger"
    staff: list[str]
    style: dict = field(default_factory=dict)


def make_sites(rng: Random, n: int) -> list[Site]:
    names: set[str] = set()
    sites = []
    while len(sites) < n:
        a, b = rng.choice(PLACE_WORDS), rng.choice(PAPER_WORDS)
        if a + b in names:
            continue
        names.add(a + b)
        short = f"{a} {b}"
        name = short if rng.random() < 0.4 else f"The {short}"
        handle = (a + b).lower()
        staff = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                 for _ in range(rng.randint(5, 10))]
        site = Site(name, short, f"{handle}.example", handle, staff)
        site.style = draw_style(rng, site)
        sites.append(site)
    return sites


def draw_style(rng: Random, s: Site) -> dict:
    """Draw a site's consistent junk templates and habits."""
    r = rng.random
    sep = rng.choice([" | ", " · ", "  ", " / ", " • "])
    nav_items = rng.sample(["Home", "World", "Politics", "Business", "Tech",
                            "Sport", "Opinion", "Culture", "Science", "Health",
                            "Video", "Podcasts", "Local", "Weather", "Lifestyle"],
                           rng.randint(5, 9))
    year = rng.randint(1851, 2009)
    slogan = rng.choice([
        f"Independent journalism for {s.short.split()[0]} since {year}",
        "News you can trust. Every day.",
        f"Founded {year} · Read by millions",
        "The stories that matter, as they happen",
        f"{s.short.split()[0]}'s voice since {year}",
        "Fearless reporting. Fair comment.",
        "Your daily briefing on the world",
    ])
    top_extra = rng.sample([
        "Skip to main content", "Menu", "Search", "Sign in", "Subscribe",
        "Log In", f"Edition: {rng.choice(['US', 'UK', 'International', 'Europe'])} ▾",
        "Today's Paper", "Live TV", "Register", "Support us", "Trending:",
    ], rng.randint(0, 3))
    share_forms = [
        "Share this article", "Share on Facebook Share on Twitter Share via Email",
        "Share | Tweet | Email | Print", "Facebook Twitter LinkedIn WhatsApp Email",
        "Share 0 Tweet 0 Pin 0", "Copy link", "SHARE", "Share this story",
        "Email Facebook Twitter Reddit", "Share:", "Share article",
        "Tweet this", "Print this page", "Share via WhatsApp",
    ]
    follow = rng.choice([
        f"Follow us on Twitter @{s.handle}",
        f"Follow {s.name} on Facebook and Twitter",
        f"Like {s.short} on Facebook",
        f"Get the {s.short} app for iPhone and Android",
        f"Follow @{s.handle} for the latest updates",
    ])
    newsletter = rng.choice([
        [f"Sign up for the {s.short} morning newsletter",
         "The day's top stories, delivered to your inbox every weekday.",
         "Enter your email address", "Sign up"],
        ["Newsletter", f"Get the best of {s.name} in your inbox",
         "By subscribing you agree to our Terms and Privacy Policy."],
        ["Don't miss a story", "Subscribe to our free daily briefing.",
         "Subscribe"],
        [f"Want more stories like this? Sign up for {s.short} Daily."],
        ["Get our breaking news alerts", "Thank you for signing up!",
         "You can unsubscribe at any time."],
    ])
    cookie = rng.choice([
        ["We use cookies to give you a better experience on our website. "
         "By continuing to browse, you consent to our use of cookies.", "Accept"],
        ["This site uses cookies. Find out more in our cookie policy.", "OK, got it"],
        ["We value your privacy", "Accept all cookies", "Manage preferences"],
        ["Our website uses cookies to personalise content and analyse traffic. Learn more"],
    ])
    ad = rng.choice([
        ["Advertisement"], ["ADVERTISEMENT"], ["Story continues below advertisement"],
        ["Article continues after this ad"], ["— Advertisement —"],
        ["Sponsored"], ["SCROLL TO CONTINUE WITH CONTENT"],
        ["Advertisement", "Continue reading the story below"],
        ["Continue reading below"], ["AD"],
    ])
    related_prefix = rng.choice([
        "Read more:", "READ MORE:", "Related:", "RELATED:", "See also:",
        "Also read:", "MORE:", "Recommended:", "You may also like:",
        "Related Story:", "READ:", "Read next:",
    ])
    related_header = rng.choice([
        "Related Coverage", "More on this story", "Related stories",
        "You might also like", "Recommended for you", "More from "
        + s.short, "Read more", "Related Articles", "Elsewhere on " + s.short,
    ])
    popular_header = rng.choice([
        "Most Popular", "Most Read", "Trending Now", "What's hot",
        "Most viewed", "Popular on " + s.short, "Top Stories",
    ])
    comments = rng.choice([
        "{n} Comments", "Comments ({n})", "View {n} comments",
        "Join the conversation ({n})", "{n} comments — add yours",
        "Show comments", "Leave a comment", "{n} responses",
    ])
    copyright_line = rng.choice([
        "© {y} " + s.short + " Media Group. All rights reserved.",
        "Copyright © {y} " + s.name + ". No part of this article may be "
        "reproduced without written permission.",
        "All content © {y} " + s.short,
        "© " + s.short + " {y}",
        "Copyright {y} " + s.short + " Publishing Ltd. Terms of use apply.",
    ])
    footer_nav = sep.join(rng.sample(
        ["About Us", "Contact", "Advertise", "Privacy Policy", "Terms of Use",
         "Careers", "Help", "Sitemap", "Cookie Settings", "Corrections",
         "Accessibility", "Newsletters"], rng.randint(4, 7)))
    return {
        "nav": sep.join(nav_items) if r() < 0.55 else None,
        "top_extra": top_extra,
        "slogan": slogan if r() < 0.45 else None,
        "cookie": cookie if r() < 0.35 else None,
        "title_tag": rng.choice([" | ", " - ", " — ", " :: "]) + s.name if r() < 0.25 else None,
        "crumb_sep": rng.choice([" > ", " / ", " » ", " › ", " · ", " | "]) if r() < 0.5 else None,
        "section_label": rng.choice(["upper", "plain", None]),
        "date_style": rng.randrange(12),
        "date2_style": rng.randrange(12) if r() < 0.3 else None,
        "byline": rng.randrange(10) if r() < 0.85 else None,
        "reading_time": rng.choice([None, None, "{n} min read", "Reading time: {n} minutes",
                                    "Listen to this article · {n}:{s:02d}"]),
        "headline_glue": rng.choice([None, None, None, "credit", "site"]),
        "teaser": rng.choice([None, None, None, "para", "sentence"]),
        "credit_style": rng.randrange(11),
        "caption_rate": rng.uniform(0.0, 0.9),
        "caption_mode": rng.choice(["two_lines", "one_line", "credit_only",
                                    "prefixed", "two_lines"]),
        "top_share": rng.sample(share_forms, rng.randint(1, 2)) if r() < 0.5 else [],
        "bottom_share": rng.sample(share_forms, rng.randint(1, 2)) if r() < 0.5 else [],
        "follow": follow if r() < 0.35 else None,
        "newsletter": newsletter if r() < 0.45 else None,
        "newsletter_mid": r() < 0.5,
        "ad": ad if r() < 0.7 else None,
        "ad_every": rng.randint(2, 5),
        "inline_related_rate": rng.uniform(0.0, 0.8),
        "related_prefix": related_prefix,
        "related_block": related_header if r() < 0.5 else None,
        "related_bullet": rng.choice(["", "", "• ", "- ", "» "]),
        "related_dated": r() < 0.3,
        "popular": popular_header if r() < 0.35 else None,
        "popular_numbered": r() < 0.6,
        "bio": rng.randrange(4) if r() < 0.4 else None,
        "comments": comments if r() < 0.4 else None,
        "tags": rng.randrange(6) if r() < 0.5 else None,
        "copyright": copyright_line if r() < 0.6 else None,
        "footer_nav": footer_nav if r() < 0.4 else None,
        "stray": rng.choice(STRAY_TOKENS) if r() < 0.3 else None,
        "stray_rate": rng.uniform(0.5, 0.95),
        "agency_tail": r() < 0.15,
        "update_note": r() < 0.15,
        "syndication_note": rng.randrange(4),
    }


# --------------------------------------------------------------------------
# Building one page
# --------------------------------------------------------------------------

@dataclass
class Article:
    headline: str | None
    paras: list[str]

    def clean(self) -> str:
        return "\n\n".join(([self.headline] if self.headline else []) + self.paras)


def person(rng: Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def credit(rng: Random, site: Site, style: int) -> str:
    p, a = person(rng), rng.choice(AGENCIES)
    return [
        f"(Photo: {p}/{a})", f"Photograph: {p}/{a}", f"Credit: {p} for {site.name}",
        f"Image copyright {a}", f"{a} Photo/{p}", f"© {p} / {a}", f"Picture: {a}",
        f"Photo by {p}/{a} via Getty Images", f"{p} / {a}", f"Image: {a}",
        "Getty Images" if a == "Getty Images" else f"{a}/Getty Images",
    ][style]


def caption_sentence(rng: Random, ents: list[str], when: datetime) -> str:
    who = rng.choice(ents) if ents and rng.random() < 0.8 else rng.choice(
        ["Protesters", "Supporters", "Police officers", "Delegates", "Residents",
         "Journalists", "Soldiers", "Officials"])
    city, dow = rng.choice(CITIES), DOW[when.weekday()]
    return rng.choice([
        f"{who} speaks during a news conference in {city} on {dow}.",
        f"{who} arrives for a meeting in {city}, {MONTHS[when.month - 1]} {when.day}, {when.year}.",
        f"{who} pictured in {city} earlier this month.",
        f"File photo: {who} at an event in {city}.",
        f"{who} gestures as he addresses reporters.",
        f"{who} seen during a visit to {city} last year.",
        f"A view of the crowd as {who} takes the stage in {city}.",
        f"{who} leaves after talks in {city} on {dow}.",
    ])


def caption_lines(rng: Random, site: Site, ents: list[str], when: datetime) -> list[str]:
    st = site.style
    cap, cred = caption_sentence(rng, ents, when), credit(rng, site, st["credit_style"])
    mode = st["caption_mode"]
    if mode == "two_lines":
        return [cap, cred]
    if mode == "one_line":
        return [f"{cap} {cred}"]
    if mode == "credit_only":
        return [cred]
    return [f"Image caption {cap}", rng.choice(["Enlarge this image", "Toggle caption",
                                                "Click to enlarge", cred])]


def byline_lines(rng: Random, site: Site, when: datetime) -> tuple[list[str], str]:
    """Byline and date lines, and the author's name."""
    st = site.style
    name, name2 = rng.choice(site.staff), rng.choice(site.staff)
    date = fmt_date(st["date_style"], when)
    role = ROLES[hash_str(name) % len(ROLES)]
    b = st["byline"]
    lines = [
        [f"By {name}", date],
        [f"By {name.upper()}, {role}", date],
        [f"{name} | {role}", date],
        [f"Story by {name} • {date}"],
        [f"By {name} and {name2}" if name2 != name else f"By {name}", date],
        [name, date],
        [f"By {name}, {site.short}", date],
        [f"Written by {name} on {date}"],
        [f"{name} @{name.split()[0].lower()}{name.split()[1][0].lower()}", date],
        [f"By {name} | {date}"],
        [date],
    ][b if b is not None else 10]
    if st["date2_style"] is not None:
        later = when + timedelta(minutes=rng.randint(20, 600))
        lines.append(fmt_date(st["date2_style"], later))
    return lines, name


def hash_str(s: str) -> int:
    """Stable small hash (str hash is salted per process)."""
    h = 0
    for c in s:
        h = (h * 131 + ord(c)) % 1000003
    return h


def related_line(rng: Random, site: Site, headline: str, when: datetime) -> str:
    st = site.style
    line = f"{st['related_prefix']} {headline}"
    if st["related_dated"]:
        d = when - timedelta(days=rng.randint(1, 40))
        line += f" ({MONTHS[d.month - 1][:3]} {d.day})"
    return line


def tag_line(rng: Random, style: int, tags: list[str]) -> list[str]:
    if not tags:
        return []
    return [
        ["Tags: " + ", ".join(tags)],
        ["Topics: " + " · ".join(tags)],
        ["Filed under: " + " / ".join(tags)],
        [" ".join("#" + t.replace(" ", "") for t in tags)],
        ["More on: " + " | ".join(tags)],
        ["Related topics"] + tags,
    ][style]


def bio_line(rng: Random, site: Site, style: int, name: str) -> str:
    first = name.split()[0]
    email = f"{first.lower()}.{name.split()[1].lower()}@{site.domain}"
    beat = BEATS[hash_str(name) % len(BEATS)]
    return [
        f"{name} is a {ROLES[hash_str(name) % len(ROLES)].lower()} at {site.name}, covering {beat}.",
        f"{name} has reported on {beat} for {rng.randint(3, 25)} years. Follow on Twitter @{site.handle}.",
        f"Contact {name} at {email}",
        f"About the author: {name} writes about {beat} for {site.short}.",
    ][style]


def build_page(rng: Random, site: Site, art: Article, when: datetime,
               other_heads: list[str], source: Site | None) -> str:
    """Wrap an article in the site's junk; return the page text."""
    st = site.style
    body_text = " ".join(art.paras)
    ents, kws = entities(body_text), keywords(body_text)
    lines: list[str] = []

    # --- top of the page ------------------------------------------------
    if st["cookie"] and rng.random() < 0.8:
        lines += st["cookie"]
    lines += st["top_extra"]
    if st["nav"]:
        lines.append(st["nav"])
    if st["slogan"]:
        lines.append(st["slogan"])
    section = rng.choice(SECTIONS)
    if st["crumb_sep"]:
        trail = ["Home", "News", section] if rng.random() < 0.5 else ["Home", section]
        lines.append(st["crumb_sep"].join(trail))
    elif st["section_label"] == "upper":
        lines.append(section.upper())
    elif st["section_label"] == "plain":
        lines.append(section)
    if art.headline:
        if st["title_tag"]:
            lines.append(art.headline + st["title_tag"])
        head = art.headline
        if st["headline_glue"] == "credit" and rng.random() < 0.7:
            head += rng.choice([" | ", " - ", " — "]) + credit(rng, site, st["credit_style"])
        elif st["headline_glue"] == "site":
            head += rng.choice([" - ", " | "]) + site.short
        lines.append(head)
    if st["reading_time"]:
        lines.append(st["reading_time"].format(n=max(2, round(len(body_text.split()) / 230)),
                                               s=rng.randrange(60)))
    by, author = byline_lines(rng, site, when)
    lines += by
    lines += st["top_share"]
    if rng.random() < st["caption_rate"]:
        lines += caption_lines(rng, site, ents, when)
    if st["teaser"] == "para" and art.paras:
        lines.append(art.paras[0])
    elif st["teaser"] == "sentence" and art.paras:
        lines.append(split_sentences(art.paras[0])[0])

    # --- body with junk between paragraphs -------------------------------
    # Other articles' headlines: a few for inline links, then the related
    # block, then the "most popular" list.
    heads = rng.sample(other_heads, min(12, len(other_heads)))
    inline, block, popular = heads[:3], heads[3:7], heads[7:12]
    n = len(art.paras)
    for i, p in enumerate(art.paras):
        last = i == n - 1
        if last:
            tail = ""
            if st["stray"] and rng.random() < st["stray_rate"]:
                tail = " " + st["stray"]
            lines.append(p + tail)
            break
        lines.append(p)
        k = i + 1  # paragraphs emitted so far
        if st["ad"] and k % st["ad_every"] == 0:
            lines += st["ad"]
        elif k == 2 and inline and rng.random() < st["inline_related_rate"]:
            lines.append(related_line(rng, site, inline.pop(), when))
        elif k == 3 and rng.random() < st["caption_rate"] * 0.5:
            lines += caption_lines(rng, site, ents, when)
        elif k == max(2, n // 2) and st["newsletter"] and st["newsletter_mid"]:
            lines += st["newsletter"]
        elif k >= 4 and inline and rng.random() < st["inline_related_rate"] * 0.3:
            lines.append(related_line(rng, site, inline.pop(), when))

    # --- bottom of the page ---------------------------------------------
    if st["agency_tail"]:
        lines.append(f"(Reporting by {person(rng)}; Editing by {person(rng)})")
    if st["update_note"] and rng.random() < 0.3:
        lines.append("This story has been updated with additional details.")
    if source is not None:
        sn = st["syndication_note"]
        if sn == 0:
            lines.append(f"This article originally appeared on {source.name}.")
        elif sn == 1:
            lines.append(f"This story first appeared at {source.domain}. Republished with permission.")
        elif sn == 2:
            lines.append(f"Source: {source.short}")
    if st["bio"] is not None:
        lines.append(bio_line(rng, site, st["bio"], author))
    if st["tags"] is not None:
        lines += tag_line(rng, st["tags"], rng.sample(kws + ents[:2], min(len(kws + ents[:2]), rng.randint(2, 5))))
    lines += st["bottom_share"]
    if st["follow"]:
        lines.append(st["follow"])
    if st["newsletter"] and not st["newsletter_mid"]:
        lines += st["newsletter"]
    if st["comments"]:
        lines.append(st["comments"].format(n=rng.randint(0, 480)))
    if st["related_block"]:
        lines.append(st["related_block"])
        for h in block[:rng.randint(2, 4)]:
            lines.append(st["related_bullet"] + h)
    if st["popular"]:
        lines.append(st["popular"])
        for j, h in enumerate(popular[:rng.randint(3, 5)], 1):
            lines.append(f"{j}. {h}" if st["popular_numbered"] else h)
    if st["footer_nav"]:
        lines.append(st["footer_nav"])
    if st["copyright"]:
        lines.append(st["copyright"].format(y=when.year))
    return "\n\n".join(lines)


# --------------------------------------------------------------------------
# Syndicated copies
# --------------------------------------------------------------------------

SWAP = {
    "said": "says", "says": "said", "about": "around", "around": "about",
    "big": "large", "large": "big", "began": "started", "started": "began",
    "nearly": "almost", "almost": "nearly", "people": "individuals",
    "children": "kids", "help": "assist", "shows": "indicates",
    "officials": "authorities", "announced": "said", "want": "wish",
    "percent": "per cent", "because": "since", "while": "whereas",
    "major": "key", "key": "major", "told": "informed", "many": "numerous",
    "country": "nation", "nation": "country", "also": "additionally",
    "however": "though", "among": "amongst", "earlier": "previously",
    "week": "weekend", "attack": "assault", "killed": "slain", "groups": "organizations",
}
INSERT_BEFORE = {"said", "has", "have", "was", "is", "will", "would", "could",
                 "had", "were", "are"}
INSERTS = ["also", "now", "still", "reportedly", "further", "recently", "already"]
HEAD_SWAP = {
    "Says": "Said", "Criticizes": "Slams", "Slams": "Criticizes", "Warns": "Cautions",
    "Calls": "Urges", "Amid": "As", "Over": "About", "Plans": "Aims",
    "Trump": "President Trump", "US": "U.S.", "U.S.": "US", "Kills": "Leaves Dead",
    "New": "Fresh", "Rejects": "Dismisses", "Backs": "Supports",
}


def edit_words(rng: Random, paras: list[str], rate: float) -> list[str]:
    """Change / delete / insert about `rate` of the words (never first/last of a paragraph)."""
    toks = [p.split(" ") for p in paras]
    slots = [(i, j) for i, t in enumerate(toks) for j in range(1, len(t) - 1)]
    n_edits = max(1, round(sum(len(t) for t in toks) * rate))
    for i, j in rng.sample(slots, min(n_edits, len(slots))):
        w = toks[i][j]
        if w is None:
            continue
        kind = rng.choices(["change", "delete", "insert"], weights=[45, 25, 30])[0]
        if kind == "change" and w in SWAP:
            toks[i][j] = SWAP[w]
        elif kind == "insert" or (kind == "change" and w in INSERT_BEFORE):
            toks[i][j] = rng.choice(INSERTS) + " " + w
        elif w.isalpha() and w.islower():
            toks[i][j] = None      # delete
        else:
            toks[i][j] = rng.choice(INSERTS) + " " + w
    return [" ".join(w for w in t if w is not None) for t in toks]


def reword_headline(rng: Random, head: str) -> str:
    words = head.split(" ")
    cand = [i for i, w in enumerate(words) if w in HEAD_SWAP]
    m = re.search(r"[,:;] ", head)
    if m and len(head[:m.start()].split()) >= 4 and (not cand or rng.random() < 0.5):
        return head[:m.start()]
    if cand:
        i = rng.choice(cand)
        words[i] = HEAD_SWAP[words[i]]
        return " ".join(words)
    return head


def make_copy(rng: Random, art: Article) -> Article:
    """A near-identical syndicated version of `art`."""
    paras = edit_words(rng, art.paras, rng.uniform(1 / 300, 1 / 80))
    words = sum(len(p.split()) for p in paras)
    if len(paras) >= 4 and rng.random() < 0.3 and len(paras[-1].split()) < 0.1 * words:
        paras = paras[:-1]
    if len(paras) >= 3 and rng.random() < 0.25:   # re-paragraphed by the syndicator
        i = rng.randrange(len(paras) - 1)
        paras = paras[:i] + [paras[i] + " " + paras[i + 1]] + paras[i + 2:]
    head = art.headline
    if head and rng.random() < 0.3:
        head = reword_headline(rng, head)
    return Article(head, paras)


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

def parse_article(rng: Random, text: str) -> Article:
    parts = [p.strip() for p in text.split("\n\n") if p.strip()]
    head = None
    if len(parts) >= 2 and len(parts[0]) <= 200 and len(split_sentences(parts[0])) == 1:
        head = " ".join(parts[0].split())
        parts = parts[1:]
    paras = []
    for p in parts:
        paras += to_paragraphs(rng, p)
    return Article(head, paras)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("realnews")
    ap.add_argument("out")
    ap.add_argument("truth")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--copies-rate", type=float, default=0.35)
    ap.add_argument("--sites", type=int, default=25)
    args = ap.parse_args()
    rng = Random(args.seed)

    with open(args.realnews, encoding="utf-8") as f:
        src = [json.loads(line) for line in f if line.strip()]
    sites = make_sites(rng, args.sites)
    arts = [parse_article(rng, d["text"]) for d in src]
    all_heads = [a.headline for a in arts if a.headline]

    # Plan documents: (sort key, article, site, date, original index or None).
    plan = []
    t0 = datetime(2016, 6, 1)
    for i, art in enumerate(arts):
        site = rng.choice(sites)
        when = t0 + timedelta(minutes=rng.randint(0, 600 * 24 * 60))
        plan.append((float(i), art, site, when, None, i))
        if rng.random() < args.copies_rate:
            for _ in range(rng.choices([1, 2, 3], weights=[60, 28, 12])[0]):
                csite = rng.choice([s for s in sites if s is not site])
                cwhen = when + timedelta(minutes=rng.randint(30, 5 * 24 * 60))
                key = rng.uniform(i + 0.5, len(arts))
                plan.append((key, make_copy(rng, art), csite, cwhen, i, i))
    plan.sort(key=lambda x: x[0])

    ids = [f"hj-{n:06d}" for n in range(1, len(plan) + 1)]
    orig_id = {e[5]: ids[n] for n, e in enumerate(plan) if e[4] is None}
    orig_site = {e[5]: e[2] for e in plan if e[4] is None}

    n_docs = n_copies = text_chars = clean_chars = out_bytes = 0
    jac = []
    with open(args.out, "w", encoding="utf-8") as fo, \
            open(args.truth, "w", encoding="utf-8") as ft:
        for did, (_, art, site, when, orig, src_i) in zip(ids, plan):
            heads = [h for h in rng.sample(all_heads, 14) if h != art.headline][:12]
            source = orig_site[src_i] if orig is not None else None
            text = build_page(rng, site, art, when, heads, source)
            clean = art.clean()
            if not is_subsequence(clean, text):
                sys.exit(f"internal error: clean text is not a subsequence ({did})")
            line = json.dumps({"id": did, "site": site.domain, "text": text},
                              ensure_ascii=False) + "\n"
            fo.write(line)
            ft.write(json.dumps({"id": did, "clean": clean,
                                 "copy_of": orig_id[orig] if orig is not None else None},
                                ensure_ascii=False) + "\n")
            n_docs += 1
            out_bytes += len(line.encode("utf-8"))
            text_chars += len(text)
            clean_chars += len(clean)
            if orig is not None:
                n_copies += 1
                jac.append(jaccard(arts[orig].clean(), clean))

    jac.sort()
    print(f"documents        {n_docs}")
    print(f"originals        {n_docs - n_copies}")
    print(f"copies           {n_copies}")
    print(f"sites            {len(sites)}")
    print(f"bytes (OUT)      {out_bytes}")
    print(f"junk share       {1 - clean_chars / text_chars:.1%} of characters")
    if jac:
        print(f"copies: clean 5-gram Jaccard vs original  min {jac[0]:.3f}  "
              f"median {jac[len(jac) // 2]:.3f}  >= 0.8: {sum(j >= 0.8 for j in jac) / len(jac):.1%}")


if __name__ == "__main__":
    main()
