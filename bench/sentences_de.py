"""German benchmark articles: distinct, news-like sentences, deterministic.

``articles()`` returns 60 articles of 1 headline + 4 paragraphs of 2 sentences
(540 distinct sentences in all, 9 per article). Every sentence is built from
templates over realistic news fragments (institutions, places, dates, figures,
quotes, names such as Lawrow or Wang Yi, which the names check looks at) and
checked to be unique, so no contender can skip work through a cache or
de-duplication. The same seed always gives the same articles.

Sentences are written so that newsflow's rule-based segmenter and Argos's own
splitter see the same sentence boundaries (no full stops inside a sentence
other than German ordinal dates such as "am 3. Oktober"); the benchmark checks
this for newsflow's segmenter and fails loudly if it ever differs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SUBJECTS = [
    "Die Bundesregierung",
    "Der Bundestag",
    "Das Bundesverfassungsgericht",
    "Die Europäische Kommission",
    "Die Europäische Zentralbank",
    "Das Auswärtige Amt",
    "Der Bundesrat",
    "Die Landesregierung in Bayern",
    "Der Deutsche Gewerkschaftsbund",
    "Die Deutsche Bahn",
    "Der Stadtrat von Leipzig",
    "Die Polizei in Hamburg",
    "Das Statistische Bundesamt",
    "Der Verband der Automobilindustrie",
    "Die Opposition",
    "Der Bürgermeister von Köln",
    "Die Gesundheitsministerin",
    "Der Wirtschaftsminister",
    "Die Bundesagentur für Arbeit",
    "Das Umweltbundesamt",
    "Die Industrie- und Handelskammer",
    "Der Mieterbund",
    "Die Landesregierung in Sachsen",
    "Der Aufsichtsrat des Konzerns",
]
SPEAKERS = [
    "Außenminister Sergej Lawrow",
    "der chinesische Außenminister Wang Yi",
    "Präsident Selenskyj",
    "die Bundeskanzlerin",
    "ein Sprecher des Innenministeriums",
    "die Vorsitzende des Ausschusses",
    "der Präsident der Bundesbank",
    "eine Sprecherin der Stadtverwaltung",
    "der Vorstandschef des Unternehmens",
    "die Ministerpräsidentin",
    "ein Vertreter der Gewerkschaft",
    "der Leiter der Behörde",
]
OBJECTS = [
    "neue Regeln für den Wohnungsbau",
    "eine umfassende Reform der Rente",
    "den Haushalt für das kommende Jahr",
    "zusätzliche Hilfen für kleine Unternehmen",
    "strengere Kontrollen an der Grenze",
    "den Ausbau der Windkraft im Norden",
    "ein Programm gegen den Fachkräftemangel",
    "höhere Investitionen in Schulen",
    "eine Entlastung bei den Energiepreisen",
    "den Bau einer neuen Bahnstrecke",
    "ein Verbot von Einwegplastik",
    "die Digitalisierung der Verwaltung",
    "eine Reform des Wahlrechts",
    "mehr Geld für die Krankenhäuser",
    "ein Abkommen über den Handel mit China",
    "neue Sanktionen gegen Russland",
    "die Sanierung maroder Brücken",
    "ein Gesetz zum Schutz der Daten",
]
VERBS_PERFECT = [
    ("hat", "beschlossen"),
    ("hat", "vorgestellt"),
    ("hat", "angekündigt"),
    ("hat", "kritisiert"),
    ("hat", "abgelehnt"),
    ("hat", "verschoben"),
    ("hat", "begrüßt"),
    ("hat", "gefordert"),
    ("hat", "geprüft"),
    ("hat", "verteidigt"),
]
CITIES = [
    "Berlin",
    "München",
    "Hamburg",
    "Köln",
    "Frankfurt",
    "Stuttgart",
    "Dresden",
    "Leipzig",
    "Hannover",
    "Düsseldorf",
    "Bremen",
    "Brüssel",
    "Peking",
    "Moskau",
    "Kiew",
    "Wien",
]
MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]
WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
MEASURES = [
    ("Arbeitslosen", "Personen"),
    ("Neuzulassungen", "Fahrzeuge"),
    ("Übernachtungen", "Gäste"),
    ("Insolvenzen", "Firmen"),
    ("Asylanträge", "Anträge"),
    ("Baugenehmigungen", "Wohnungen"),
    ("Fluggäste", "Reisende"),
    ("Exporte nach China", "Lieferungen"),
]
FIELDS = [
    "den Klimaschutz",
    "die Bildung",
    "die Bundeswehr",
    "den Nahverkehr",
    "die Forschung",
    "die Pflege",
    "den Breitbandausbau",
    "die Wasserstoffwirtschaft",
    "den sozialen Wohnungsbau",
]
COMPLAINTS = [
    "die Pläne seien schlecht vorbereitet",
    "die Kosten würden deutlich unterschätzt",
    "die Bürger seien zu spät informiert worden",
    "das Verfahren sei nicht transparent",
    "die Folgen für die Umwelt seien nicht geprüft worden",
    "die Maßnahmen kämen viel zu spät",
    "kleine Betriebe würden benachteiligt",
]
QUOTES = [
    "Wir werden diesen Weg konsequent weitergehen",
    "Die Lage ist ernst, aber beherrschbar",
    "Niemand soll mit seinen Sorgen allein gelassen werden",
    "Wir brauchen jetzt schnelle und pragmatische Lösungen",
    "Die Gespräche waren offen und konstruktiv",
    "Das ist ein wichtiges Signal für Europa",
    "Wir haben keine Zeit mehr zu verlieren",
    "Die Zahlen sprechen eine deutliche Sprache",
]
REASONS = [
    "nachdem die Verhandlungen in der Nacht gescheitert waren",
    "weil die Steuereinnahmen geringer ausfielen als erwartet",
    "obwohl mehrere Verbände vor den Folgen gewarnt hatten",
    "da die Inflation im Euroraum weiter gesunken ist",
    "nachdem ein Gutachten erhebliche Mängel festgestellt hatte",
    "weil die Nachfrage aus dem Ausland stark zurückgegangen ist",
]
HEADLINE_NOUNS = [
    "Streit um",
    "Einigung über",
    "Kritik an",
    "Neue Pläne für",
    "Verzögerung bei",
    "Durchbruch bei",
    "Protest gegen",
    "Milliarden für",
]
HEADLINE_TOPICS = [
    "die Rentenreform",
    "den Wohnungsbau",
    "die Energiepreise",
    "die Grenzkontrollen",
    "den Bahnausbau",
    "die Krankenhausreform",
    "den Haushalt",
    "die Windkraft",
    "die Schulen",
    "den Handel mit China",
    "die Sanktionen",
    "die Digitalisierung",
]


def _sentence(kind: int, rng: random.Random) -> str:
    day, month = rng.randint(1, 28), rng.choice(MONTHS)
    city, subj = rng.choice(CITIES), rng.choice(SUBJECTS)
    if kind == 0:
        aux, part = rng.choice(VERBS_PERFECT)
        return f"{subj} {aux} am {day}. {month} in {city} {rng.choice(OBJECTS)} {part}."
    if kind == 1:
        quote, speaker = rng.choice(QUOTES), rng.choice(SPEAKERS)
        return f"„{quote}“, sagte {speaker} am {rng.choice(WEEKDAYS)} in {city}."
    if kind == 2:
        noun, unit = rng.choice(MEASURES)
        pct = f"{rng.randint(1, 19)},{rng.randint(0, 9)}"
        return (
            f"Die Zahl der {noun} stieg im {month} um {pct} Prozent auf "
            f"{rng.randint(12, 990)}.{rng.randint(100, 999)} {unit}."
        )
    if kind == 3:
        year = rng.randint(2026, 2035)
        return (
            f"{subj} will bis {year} rund {rng.randint(2, 95)} Milliarden Euro in "
            f"{rng.choice(FIELDS)} investieren, {rng.choice(REASONS)}."
        )
    if kind == 4:
        return (
            f"Kritiker aus {city} warfen der Regierung am {rng.choice(WEEKDAYS)} vor, "
            f"{rng.choice(COMPLAINTS)}."
        )
    if kind == 5:
        speaker = rng.choice(SPEAKERS)
        return (
            f"Wie {speaker} mitteilte, soll die Entscheidung über {rng.choice(OBJECTS)} "
            f"spätestens Ende {month} fallen."
        )
    if kind == 6:
        return (
            f"In {city} demonstrierten nach Angaben der Polizei etwa "
            f"{rng.randint(2, 60) * 500} Menschen gegen {rng.choice(OBJECTS)}."
        )
    aux, part = rng.choice(VERBS_PERFECT)
    return f"{subj} {aux} {rng.choice(OBJECTS)} {part}, {rng.choice(REASONS)}."


def _headline(rng: random.Random) -> str:
    return f"{rng.choice(HEADLINE_NOUNS)} {rng.choice(HEADLINE_TOPICS)} in {rng.choice(CITIES)}"


@dataclass(frozen=True)
class BenchArticle:
    title: str
    paragraphs: list[str]  # each paragraph: sentences joined with one space
    sentences: list[str]  # title first, then every body sentence in order


def articles(
    count: int = 60, paragraphs: int = 4, sentences_per_paragraph: int = 2, seed: int = 4
) -> list[BenchArticle]:
    """``count`` articles whose sentences (titles included) are all distinct."""
    rng = random.Random(seed)
    seen: set[str] = set()

    def fresh(make) -> str:
        for _ in range(1000):
            text = make()
            if text not in seen:
                seen.add(text)
                return text
        raise RuntimeError("template pools too small for the requested number of sentences")

    out = []
    kind = 0
    for _ in range(count):
        title = fresh(lambda: _headline(rng))
        paras, sentences = [], [title]
        for _ in range(paragraphs):
            para = []
            for _ in range(sentences_per_paragraph):
                para.append(fresh(lambda k=kind % 8: _sentence(k, rng)))
                kind += 1
            paras.append(" ".join(para))
            sentences += para
        out.append(BenchArticle(title, paras, sentences))
    return out


if __name__ == "__main__":
    arts = articles()
    total = sum(len(a.sentences) for a in arts)
    print(
        f"{len(arts)} articles, {total} sentences, {len({s for a in arts for s in a.sentences})} distinct"
    )
    for a in arts[:2]:
        print(a.title)
        for p in a.paragraphs:
            print("  ", p)
