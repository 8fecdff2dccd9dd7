#!/usr/bin/env python3
"""Validate the matching evaluation set and print its copy statistics.

Usage (from anywhere):
    python3 crates/bench/eval/matching/check.py [--corpus PATH] [--needs PATH]
                                                [--max-lcs 6] [--baseline] [-v]
    python3 crates/bench/eval/matching/check.py --hard [...]     # the hard set, needs_hard.jsonl
    python3 crates/bench/eval/matching/check.py --compare        # leakage of both sets side by side

The set's rules follow its ids: `need-NNN` (needs.jsonl) or `hard-NNN` (needs_hard.jsonl, stricter:
the title may share no two-character word with the source's title or keywords, and no source may
be a source of the other set).

The corpus defaults to ../shared/data/csl/corpus.jsonl relative to the repository
root. When it is absent the script prints a SKIP line and exits 0 (only the
corpus-independent checks are run then).

Exit status: 0 when every check passes, 1 otherwise.
"""
import argparse
import collections
import json
import os
import re
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
DEFAULT_CORPUS = os.path.join(ROOT, "..", "shared", "data", "csl", "corpus.jsonl")
DEFAULT_NEEDS = os.path.join(HERE, "needs.jsonl")
DEFAULT_HARD = os.path.join(HERE, "needs_hard.jsonl")

KEYS = ["id", "source", "title", "problem", "key_points", "goals", "keywords", "relevant"]
ID_RE = re.compile(r"^need-\d{3}$")
HARD_ID_RE = re.compile(r"^hard-\d{3}$")
# Limits per set: (title min, title max, body min, body max). The hard set has short, vague
# postings and long ones with business context, as real postings do.
LIMITS = {"main": (10, 40, 250, 700), "hard": (6, 40, 120, 750)}
CSL_RE = re.compile(r"^csl-\d+$")
# Categories left out of the set as sources (not technology-transfer topics).
EXCLUDED_CATEGORIES = {"管理学", "教育学", "经济学", "军事学"}


def body_len(n):
    return len(n["problem"]) + len(n["key_points"]) + len(n["goals"])


def need_text(n):
    return "\n".join([n["title"], n["problem"], n["key_points"], n["goals"], " ".join(n["keywords"])])


def record_text(r):
    return "\n".join([r["title"], r["abstract"], " ".join(r["keywords"])])


def norm(s):
    # Case-fold Latin letters and unify full-width ASCII so that "ＰＬＣ" and "plc" compare equal.
    out = []
    for ch in s:
        o = ord(ch)
        if 0xFF01 <= o <= 0xFF5E:
            ch = chr(o - 0xFEE0)
        out.append(ch.lower())
    return "".join(out)


def lcs(a, b):
    """Longest common substring of a and b (returns the substring)."""
    a, b = norm(a), norm(b)
    best = ""
    length = 1
    while True:
        subs = {b[i:i + length] for i in range(len(b) - length + 1)}
        hit = None
        for i in range(len(a) - length + 1):
            s = a[i:i + length]
            if "\n" in s:
                continue
            if s in subs:
                hit = s
                break
        if hit is None:
            return best
        best = hit
        length += 1


def longest_in(a, big):
    """Longest substring of a (not spanning a line break) that occurs in big."""
    best, starts, length = "", list(range(len(a))), 1
    while starts:
        nxt = []
        for i in starts:
            sub = a[i:i + length]
            if len(sub) == length and "\n" not in sub and sub in big:
                nxt.append(i)
        if nxt:
            best = a[nxt[0]:nxt[0] + length]
        starts, length = nxt, length + 1
    return best


def shared_runs(a, b, n=4):
    """Distinct runs of n characters (CJK, letters, digits only) found in both texts."""
    a, b = norm(a), norm(b)
    ok = re.compile(r"^[\u4e00-\u9fff0-9a-z]{%d}$" % n)
    sa = {a[i:i + n] for i in range(len(a) - n + 1)}
    sb = {b[i:i + n] for i in range(len(b) - n + 1)}
    return sorted(s for s in sa & sb if ok.match(s))


def kw_reuse(need, rec):
    t = norm(need_text(need))
    kws = [k for k in rec["keywords"] if k.strip()]
    used = [k for k in kws if norm(k) in t]
    return used, len(kws)


CJK2 = re.compile(r"^[\u4e00-\u9fff]{2}$")


def cjk_bigrams(s):
    """Distinct two-character runs of CJK characters (the two-character words of a text, and more)."""
    s = norm(s)
    return {s[i:i + 2] for i in range(len(s) - 1) if CJK2.match(s[i:i + 2])}


def latin_words(s):
    return set(re.findall(r"[a-z0-9]{2,}", norm(s)))


def title_clash(need, rec):
    """Two-character words (CJK bigrams, Latin or digit tokens) that the need's title shares with
    the source's title and keywords. Without a word segmenter every CJK bigram counts, which is
    stricter than a word list."""
    src = rec["title"] + " " + " ".join(rec["keywords"])
    return sorted((cjk_bigrams(need["title"]) & cjk_bigrams(src))
                  | (latin_words(need["title"]) & latin_words(src)))


def leakage(need, rec):
    """(share of the source's keywords found verbatim in the need,
        share of the source title's character bigrams found in the need,
        share of the need's character bigrams that occur in the source's abstract)."""
    nt = norm(need_text(need))
    nb = cjk_bigrams(need_text(need))
    kws = [k for k in rec["keywords"] if k.strip()]
    kw = sum(1 for k in kws if norm(k) in nt) / len(kws) if kws else 0.0
    tb = cjk_bigrams(rec["title"])
    title = len(tb & nb) / len(tb) if tb else 0.0
    ab = cjk_bigrams(rec["abstract"])
    abstract = len(nb & ab) / len(nb) if nb else 0.0
    return kw, title, abstract


def source_ranks(needs, corpus):
    """For each need: the rank of its source among all records by character-bigram Jaccard
    similarity (need text against title + abstract + keywords), and the best share of the need's
    bigrams found in any *other* record's abstract (the baseline for the abstract overlap)."""
    full = {k: cjk_bigrams(record_text(r)) for k, r in corpus.items()}
    abstracts = {k: cjk_bigrams(r["abstract"]) for k, r in corpus.items()}
    ranks, best_other = [], []
    for n in needs:
        nb = cjk_bigrams(need_text(n))

        def jac(b):
            inter = len(nb & b)
            union = len(nb) + len(b) - inter
            return inter / union if union else 0.0

        src = jac(full[n["source"]])
        ranks.append(1 + sum(1 for k, b in full.items() if k != n["source"] and jac(b) > src))
        best_other.append(max((len(nb & b) / len(nb) if nb else 0.0)
                              for k, b in abstracts.items() if k != n["source"]))
    return ranks, best_other


def validate_shape(needs, errors, kind="main"):
    seen_ids, seen_src = set(), set()
    for ln, n in needs:
        where = f"line {ln}"
        if not isinstance(n, dict):
            errors.append(f"{where}: not a JSON object")
            continue
        if list(n.keys()) != KEYS:
            missing = [k for k in KEYS if k not in n]
            extra = [k for k in n if k not in KEYS]
            if missing or extra:
                errors.append(f"{where}: keys missing {missing} extra {extra}")
                continue
            errors.append(f"{where}: keys out of order (expected {', '.join(KEYS)})")
        where = f"{n['id']} (line {ln})"
        id_re, example = (HARD_ID_RE, "hard-001") if kind == "hard" else (ID_RE, "need-001")
        tmin, tmax, bmin, bmax = LIMITS[kind]
        if not isinstance(n["id"], str) or not id_re.match(n["id"]):
            errors.append(f"{where}: id must look like {example}")
        if n["id"] in seen_ids:
            errors.append(f"{where}: duplicate id")
        seen_ids.add(n["id"])
        if not isinstance(n["source"], str) or not CSL_RE.match(n["source"]):
            errors.append(f"{where}: source must look like csl-123")
        if n["source"] in seen_src:
            errors.append(f"{where}: source {n['source']} used by another need")
        seen_src.add(n["source"])
        for k in ["title", "problem", "key_points", "goals"]:
            if not isinstance(n[k], str) or not n[k].strip():
                errors.append(f"{where}: {k} must be a non-empty string")
        if isinstance(n["title"], str) and not tmin <= len(n["title"]) <= tmax:
            errors.append(f"{where}: title has {len(n['title'])} chars ({tmin}-{tmax})")
        try:
            bl = body_len(n)
            if not bmin <= bl <= bmax:
                errors.append(f"{where}: problem+key_points+goals has {bl} chars ({bmin}-{bmax})")
        except TypeError:
            pass
        kw = n["keywords"]
        if not isinstance(kw, list) or not all(isinstance(k, str) and k.strip() for k in kw):
            errors.append(f"{where}: keywords must be a list of non-empty strings")
        elif len(kw) > 3:
            errors.append(f"{where}: {len(kw)} keywords (at most 3)")
        elif len(set(kw)) != len(kw):
            errors.append(f"{where}: duplicate keywords")
        rel = n["relevant"]
        if not isinstance(rel, dict) or not rel:
            errors.append(f"{where}: relevant must be a non-empty object")
            continue
        for k, v in rel.items():
            if not CSL_RE.match(k):
                errors.append(f"{where}: relevant id {k!r} must look like csl-123")
            if v not in (1, 2) or isinstance(v, bool):
                errors.append(f"{where}: grade of {k} is {v!r} (1 or 2; unlisted means 0)")
        if rel.get(n["source"]) != 2:
            errors.append(f"{where}: the source record must be graded 2")


def load_needs(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def compare(corpus_path):
    """Leakage of both sets side by side: how much of the source's own wording each need carries."""
    if not os.path.exists(corpus_path):
        print(f"SKIP: corpus not found at {os.path.normpath(corpus_path)}")
        return 0
    corpus = {}
    with open(corpus_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            corpus[r["id"]] = r
    cols = []
    for path in (DEFAULT_NEEDS, DEFAULT_HARD):
        needs = load_needs(path)
        lk = [leakage(n, corpus[n["source"]]) for n in needs]
        kw_any = sum(1 for n in needs if kw_reuse(n, corpus[n["source"]])[0])
        clash = sum(1 for n in needs if title_clash(n, corpus[n["source"]]))
        lcss = [len(lcs(need_text(n), record_text(corpus[n["source"]]))) for n in needs]
        ranks, best_other = source_ranks(needs, corpus)
        bl = [body_len(n) for n in needs]
        cols.append((os.path.basename(path), [
            f"{len(needs)}",
            f"{min(bl)}-{max(bl)}, median {statistics.median(bl):.0f}",
            f"{statistics.mean(x[0] for x in lk):.3f}",
            f"{kw_any} ({kw_any / len(needs):.0%})",
            f"{statistics.mean(x[1] for x in lk):.3f}",
            f"{clash} ({clash / len(needs):.0%})",
            f"{statistics.mean(x[2] for x in lk):.3f}",
            f"{statistics.mean(best_other):.3f}",
            f"{statistics.mean(lcss):.2f} / {max(lcss)}",
            f"{sum(1 for r in ranks if r == 1) / len(ranks):.0%}",
            f"{statistics.mean(1 / r for r in ranks):.3f}",
            f"{statistics.median(ranks):.0f}",
        ]))
    labels = [
        "needs",
        "problem+key_points+goals, characters",
        "source keywords found verbatim in the need (mean share)",
        "needs containing a source keyword verbatim",
        "source-title character bigrams found in the need (mean share)",
        "need titles sharing a two-character word with the source's title/keywords",
        "need's character bigrams found in the source abstract (mean share)",
        "  the same, best other record's abstract (baseline)",
        "longest common substring with the source (mean / max)",
        "source ranked first of 1,729 records by bigram Jaccard",
        "MRR of the source by bigram Jaccard",
        "median rank of the source by bigram Jaccard",
    ]
    w = max(len(l) for l in labels)
    print(f"{'':{w}}  " + "  ".join(f"{c[0]:>22}" for c in cols))
    for i, label in enumerate(labels):
        print(f"{label:{w}}  " + "  ".join(f"{c[1][i]:>22}" for c in cols))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--needs", default=None,
                    help="the set (default needs.jsonl, or needs_hard.jsonl with --hard)")
    ap.add_argument("--hard", action="store_true",
                    help="check the hard set (needs_hard.jsonl) with its stricter rules")
    ap.add_argument("--compare", action="store_true",
                    help="print the leakage of needs.jsonl and needs_hard.jsonl side by side (~30 s)")
    ap.add_argument("--max-lcs", type=int, default=6,
                    help="longest substring a need may share with its source record (default 6)")
    ap.add_argument("--baseline", action="store_true",
                    help="also measure each need's longest common substring with the best *other* record")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line of statistics per need")
    args = ap.parse_args()
    if args.compare:
        return compare(args.corpus)
    if args.needs is None:
        args.needs = DEFAULT_HARD if args.hard else DEFAULT_NEEDS
    kind = "hard" if args.hard or os.path.basename(args.needs).startswith("needs_hard") else "main"
    other_set = DEFAULT_NEEDS if kind == "hard" else DEFAULT_HARD

    errors = []
    needs = []
    with open(args.needs, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"line {ln}: empty line")
                continue
            try:
                needs.append((ln, json.loads(line)))
            except json.JSONDecodeError as e:
                errors.append(f"line {ln}: invalid JSON ({e})")
    validate_shape(needs, errors, kind)
    needs = [n for _, n in needs if isinstance(n, dict) and all(k in n for k in KEYS)]
    # The two sets are disjoint in their sources (the hard set was written from unused records).
    if os.path.exists(other_set) and os.path.abspath(other_set) != os.path.abspath(args.needs):
        with open(other_set, encoding="utf-8") as f:
            taken = {json.loads(l)["source"] for l in f if l.strip()}
        for n in needs:
            if n["source"] in taken:
                errors.append(f"{n['id']}: source {n['source']} is also a source in {os.path.basename(other_set)}")

    grades = collections.Counter(v for n in needs for k, v in n["relevant"].items() if k != n["source"])
    print(f"needs: {len(needs)}")
    print(f"graded pairs: {sum(len(n['relevant']) for n in needs)} "
          f"(sources: {len(needs)} at grade 2; others: grade 2 = {grades[2]}, grade 1 = {grades[1]})")
    extra = [len(n["relevant"]) - 1 for n in needs]
    if extra:
        print(f"extra graded records per need: mean {statistics.mean(extra):.2f}, "
              f"min {min(extra)}, max {max(extra)}, needs with none {sum(1 for e in extra if e == 0)}")
        bl = [body_len(n) for n in needs]
        print(f"problem+key_points+goals length: min {min(bl)}, median {statistics.median(bl)}, max {max(bl)}")

    if not os.path.exists(args.corpus):
        print(f"SKIP: corpus not found at {os.path.normpath(args.corpus)}; "
              "corpus checks and copy statistics not run")
        for e in errors:
            print("ERROR", e)
        return 1 if errors else 0

    corpus = {}
    with open(args.corpus, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            corpus[r["id"]] = r

    disc = collections.Counter()
    lcss, fracs, used_counts, runs = [], [], [], []
    for n in needs:
        for k in n["relevant"]:
            if k not in corpus:
                errors.append(f"{n['id']}: relevant id {k} not in the corpus")
        src = corpus.get(n["source"])
        if src is None:
            continue
        if src["category"] in EXCLUDED_CATEGORIES:
            errors.append(f"{n['id']}: source {src['id']} is in an excluded category ({src['category']})")
        disc[src["discipline"]] += 1
        if kind == "hard":
            clash = title_clash(n, src)
            if clash:
                errors.append(f"{n['id']}: title shares {clash} with the title or keywords of {src['id']}")
        nt, rt = need_text(n), record_text(src)
        s = lcs(nt, rt)
        used, total = kw_reuse(n, src)
        r4 = shared_runs(nt, rt)
        lcss.append(len(s))
        fracs.append(len(used) / total if total else 0.0)
        used_counts.append(len(used))
        runs.append(len(r4))
        if len(s) > args.max_lcs:
            errors.append(f"{n['id']}: shares {len(s)} chars with {src['id']}: {s!r} (max {args.max_lcs})")
        if args.verbose:
            print(f"{n['id']} {src['id']:9s} lcs={len(s)} {s!r:14s} kw={len(used)}/{total} {used} "
                  f"runs4={len(r4)} {' '.join(r4[:8])}")

    if lcss:
        print(f"disciplines: {len(disc)} ({', '.join(f'{d} {c}' for d, c in disc.most_common())})")
        hist = collections.Counter(lcss)
        print("longest common substring with the source record (title+abstract+keywords): "
              f"max {max(lcss)}, mean {statistics.mean(lcss):.2f}, median {statistics.median(lcss)}; "
              "histogram " + ", ".join(f"{k}:{hist[k]}" for k in sorted(hist)))
        uc = collections.Counter(used_counts)
        print("source keywords found verbatim in the need: "
              f"mean fraction {statistics.mean(fracs):.3f}, total {sum(used_counts)}; needs with "
              + ", ".join(f"{k}: {uc[k]}" for k in sorted(uc)))
        print(f"distinct shared 4-character runs per need: mean {statistics.mean(runs):.2f}, max {max(runs)}")

    if args.baseline and needs:
        others = []
        texts = {k: norm(record_text(r)) for k, r in corpus.items()}
        for n in needs:
            big = "\x00".join(t for k, t in texts.items() if k != n["source"])
            others.append(len(longest_in(norm(need_text(n)), big)))
        print(f"baseline, longest common substring with the best other record: "
              f"mean {statistics.mean(others):.2f}, median {statistics.median(others)}, max {max(others)}")

    for e in errors:
        print("ERROR", e)
    print("OK" if not errors else f"FAILED: {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
