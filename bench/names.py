"""Names-check benchmark: ``newsflow names check`` over 10,000 JSON lines.

    python bench/names.py [--lines 10000] [--glossary glossary.yaml] [--keep]

(plain ``python`` works: it re-runs itself in the repo's venv, like bench/throughput.py.)

The lines are generated (seeded, so every run checks the same input): news sentences in German,
Chinese (Simplified and Traditional) and English with one to four glossary names each, about a
third of them misspelled the ways models misspell names (German form left, near misses, Pinyin,
literal renderings, wrong capitals, tone marks), plus other people and places near glossary
names, URLs, handles and fixed expressions. The command runs as a user runs it, in a fresh
process (start-up, glossary, jieba's dictionary included); the wall time of that process is
measured. The last line is the summary, exactly:

    names: N lines in S s (R lines/s), W wrong, target < 10 s: ok|MISSED
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(BENCH)]

from harness import use_project_environment  # noqa: E402

use_project_environment()

TARGET_SECONDS = 10.0

# (source, translation) templates; {a}/{b} are filled from the name pools below
DE = [
    (
        "{a} sagte am Montag in {p}, die Gespräche gingen weiter.",
        "{A} said in {P} on Monday that the talks would continue.",
    ),
    (
        "Nach Angaben von {a} traf {b} am Abend in {p} ein.",
        "According to {A}, {B} arrived in {P} in the evening.",
    ),
    (
        "Der Kreml-Sprecher {a} wies die Berichte zurück; mehr unter https://kremlin.ru/events.",
        "Kremlin spokesman {A} rejected the reports; more at https://kremlin.ru/events.",
    ),
    (
        "{a} und {b} sprachen über die Lage in {p} und Metz.",
        "{A} and {B} discussed the situation in {P} and Metz.",
    ),
    (
        "Zum Essen gab es Hähnchen Kiew, {a} lobte die Küche.",
        "There was chicken Kiev for dinner, {A} praised the cuisine.",
    ),
]
ZH = [
    ("{a}表示，{p}愿意继续对话。", "{A} said {P} is willing to continue the dialogue."),
    (
        "外交部发言人{a}在例行记者会上说，{b}将访问{p}。",
        "Foreign Ministry spokeswoman {A} said at a regular press conference that {B} will visit {P}.",
    ),
    (
        "{a}同{b}通电话，双方讨论了基辅罗斯的历史。",
        "{A} spoke by phone with {B}; they discussed the history of Kievan Rus'.",
    ),
    ("#{a}访华# 话题引发热议，{b}在{p}发表讲话。", "#{a}访华# sparked debate; {B} spoke in {P}."),
]
EN = [
    ("{A} met {B} in {P}; follow @MFA_Russia for updates.",),
    ("Lyudmila Putina and {A} were seen in {P}.",),
]
PEOPLE = [
    # (de, zh, right English, wrong renderings)
    ("Lawrow", "拉夫罗夫", "Lavrov", ["Lawrow", "Lavrow", "Lafuluofu", "lavrov", "Lavrovv"]),
    ("Sergej Lawrow", "谢尔盖·拉夫罗夫", "Sergei Lavrov", ["Sergej Lawrow", "Xieergai Lafuluofu"]),
    ("Wang Yi", "王毅", "Wang Yi", ["Wangyi", "King Yi", "Wang Yii", "Wáng Yì"]),
    ("Xi Jinping", "习近平", "Xi Jinping", ["Xi Jin Ping", "Xi Near Peace", "Xi Jinpin"]),
    ("Selenskyj", "泽连斯基", "Zelensky", ["Selenskyj", "Zelenskyi", "Zelenskij"]),
    ("Sacharowa", "扎哈罗娃", "Zakharova", ["Sacharowa", "Zaharova", "Zhahaluowa"]),
    ("Peskow", "佩斯科夫", "Peskov", ["Peskow", "Peskoff", "Peisikefu"]),
    ("Putin", "普京", "Putin", ["Pujing", "putin"]),
    ("Merz", "默茨", "Merz", ["Mertz", "Moci"]),
    ("Mao Ning", "毛宁", "Mao Ning", ["Maoning", "Hair Ning", "Mao Ming"]),
    ("Blinken", "布林肯", "Blinken", ["Bulinken", "Blinkenn"]),
]
PLACES = [
    ("Moskau", "莫斯科", "Moscow", ["Moskau", "Mosike", "moscow"]),
    ("Peking", "北京", "Beijing", ["Peking", "North Capital", "Běijīng"]),
    ("Kiew", "基辅", "Kyiv", ["Kiew", "Jifu"]),
    ("Berlin", "柏林", "Berlin", ["berlin"]),
    ("Xi'an", "西安", "Xi'an", ["Xian", "Xi 'an", "Western Peace"]),
    ("Hongkong", "香港", "Hong Kong", ["Hongkong", "Fragrant Harbour"]),
]


def english(rng: random.Random, item) -> str:
    return rng.choice(item[3]) if rng.random() < 0.33 else item[2]


def generate(count: int, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    lines = []
    for number in range(count):
        a, b = rng.sample(PEOPLE, 2)
        p = rng.choice(PLACES)
        values = {"A": english(rng, a), "B": english(rng, b), "P": english(rng, p)}
        roll = rng.random()
        if roll < 0.45:
            source, translation = rng.choice(DE)
            record = {"lang": "de", "source": source.format(a=a[0], b=b[0], p=p[0])}
        elif roll < 0.85:
            source, translation = rng.choice(ZH)
            lang = "zh" if roll < 0.75 else "zt"
            text = source.format(a=a[1], b=b[1], p=p[1])
            if lang == "zt":
                text = text.replace("发", "發").replace("说", "說").replace("谈", "談")
            record = {"lang": lang, "source": text}
        else:
            (translation,) = rng.choice(EN)
            record = {"lang": "en"}
        text = translation.format(a=a[1], **values)
        record["translation"] = text
        if record["lang"] == "en":
            record["source"] = text
        lines.append({"id": number, **record})
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--glossary", default=str(REPO / "glossary.yaml"))
    parser.add_argument("--keep", action="store_true", help="keep the input and output files")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsflow-bench-names-"))
    source = work / "input.jsonl"
    source.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in generate(args.lines)),
        encoding="utf-8",
    )
    command = [
        sys.executable,
        "-m",
        "newsflow.cli",
        "names",
        "check",
        "--glossary",
        args.glossary,
        str(source),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"names: the command failed ({result.returncode}): {result.stderr.strip()}")
    out = result.stdout.splitlines()
    (work / "output.jsonl").write_text(result.stdout, encoding="utf-8")
    if len(out) != args.lines:
        sys.exit(f"names: {len(out)} output lines for {args.lines} input lines")
    wrong = sum(1 for line in out for f in json.loads(line)["findings"] if f["status"] == "wrong")
    if args.keep:
        print(f"names: files kept in {work}", file=sys.stderr)
    else:
        for path in work.iterdir():
            path.unlink()
        work.rmdir()
    verdict = "ok" if seconds < TARGET_SECONDS or args.lines != 10_000 else "MISSED"
    print(
        f"names: {args.lines} lines in {seconds:.2f} s ({args.lines / seconds:,.0f} lines/s), "
        f"{wrong} wrong, target < {TARGET_SECONDS:.0f} s: {verdict}"
    )


if __name__ == "__main__":
    main()
