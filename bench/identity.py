"""Benchmark: one entity per real thing (issue #11, SPEC §10), on the gold set.

Ingests the identity gold stories (tests/data/identity/, written for the
project, every person, organisation, place and group labelled with its true
identity) into a fresh database through the real pipeline (ingest, NER,
resolution in the story and across the corpus, rescoring), then matches each
gold mention to the stored mention whose span overlaps it most, and prints:

* B³ precision, recall and F1 over the gold mentions (and over the found
  ones only, which leaves extraction misses out), for the system's
  entities and for plain lower-cased string identity (each found mention
  clustered by its own text, lower-cased) on the same found mentions; a gold
  mention that no stored mention overlaps is a cluster of its own in both;
* found: the share of gold mentions some stored mention overlaps (recall of
  the extraction itself, issue #13);
* real entities named in ≥ 2 stories that end up as one entity; (story, real
  entity) pairs split over ≥ 2 about-list entries;
* by kind of story: the same B³ over found mentions for sports stories
  (headlines "SOCCER - …", "CRICKET - …") and the rest;
* rule precision, per origin: each active automatic rule (`Alias`) judged
  against the gold: right when the gold identity most of the mentions
  stored under the rule's name carry is the one most of the entity's other
  mentions carry (a rule with no such mentions on either side is unjudged);
* junk: stored mentions (of people, organisations, places, groups) that
  overlap no gold mention; stored entity names holding digits (scores, figures, phone numbers),
  and names in capitals (all upper case, with a word of 5+ letters:
  "LONDON", not "NATO").

With `--language fr` it reads the French gold (tests/data/identity/fr/),
`--language both` the English then the French (a French corpus arriving on an
English one: identities named in both languages are counted as one entity or
not). Next to each language, the raw spaCy pipeline of that language on the
same texts: the names it finds (labels it maps to a kept type) that the
project keeps a mention over, and truncated names (a gold name a stored, or
raw, span overlaps without covering it whole).

    python -m bench.identity
    python -m bench.identity --language fr
    python -m bench.identity --language both --db postgres
"""

from __future__ import annotations

import re
import sys
import time
from collections import defaultdict

from bench.common import database, parser, versions


def b_cubed(gold: list[str], system: list[str]) -> tuple[float, float, float]:
    """B³ over items: gold[i] and system[i] are item i's cluster labels."""
    n = len(gold)
    if not n:
        return 0.0, 0.0, 0.0
    gold_sets: dict[str, set[int]] = defaultdict(set)
    system_sets: dict[str, set[int]] = defaultdict(set)
    for i, (g, s) in enumerate(zip(gold, system, strict=True)):
        gold_sets[g].add(i)
        system_sets[s].add(i)
    precision = recall = 0.0
    for i in range(n):
        g, s = gold_sets[gold[i]], system_sets[system[i]]
        both = len(g & s)
        precision += both / len(s)
        recall += both / len(g)
    precision, recall = precision / n, recall / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


CAPITALS = re.compile(r"[A-Z]{5,}")


def is_shouted(name: str) -> bool:
    return name.isupper() and bool(CAPITALS.search(name))


SPORTS = re.compile(
    r"^(?:SOCCER|CRICKET|TENNIS|ATHLETICS|GOLF|BASEBALL|BASKETBALL|RUGBY[A-Z ]*|CYCLING|"
    r"MOTOR RACING|MOTORCYCLING|BOXING|HORSE RACING|ICE HOCKEY|NHL|NBA|NFL|SKIING|SWIMMING|"
    r"ROWING|SAILING|BADMINTON|SQUASH|VOLLEYBALL|HANDBALL|OLYMPICS|SPORT)\b[^-]* - "
)


def is_sports(title: str) -> bool:
    """A wire sports story: its headline starts with the sport ("SOCCER - …")."""
    return bool(SPORTS.match(title.upper()))


def _majority(identities: list[str]) -> str | None:
    if not identities:
        return None
    counts: dict[str, int] = defaultdict(int)
    for identity in identities:
        counts[identity] += 1
    return max(sorted(counts), key=counts.get)


def rule_precision(judged: list[tuple[str, int, str, str]]) -> tuple[dict, list]:
    """Each active automatic rule judged against the gold. `judged` holds one
    row per matched gold mention: (stored surface key, entity id, gold
    identity, kind). Returns {origin: [right, wrong, unjudged]} and the wrong
    rules, for the report."""
    from entities.models import Alias
    from entities.normalize import key_variants

    by_entity: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for key, entity_id, identity, _ in judged:
        by_entity[entity_id].append((key, identity))
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    wrong = []
    rules = Alias.objects.filter(active=True).exclude(origin=Alias.Origin.EDITOR)
    for alias in rules.select_related("entity"):
        keys = set(key_variants(alias.key))
        rows = by_entity.get(alias.entity_id, [])
        under_rule = _majority([i for k, i in rows if k in keys])
        others = _majority([i for k, i in rows if k not in keys])
        if under_rule is None or others is None:
            tally[alias.origin][2] += 1
        elif under_rule == others:
            tally[alias.origin][0] += 1
        else:
            tally[alias.origin][1] += 1
            wrong.append(f"{alias.origin}: {alias.name} → {alias.entity.name}")
    return dict(tally), sorted(wrong)


def run_pipeline(stories) -> float:
    from django.conf import settings

    from articles.services import record_ingest
    from entities.extraction import articles_extract
    from entities.scoring import rescore_all

    started = time.perf_counter()
    ids = [record_ingest(record=s.record, enqueue=False).article.id for s in stories]
    size = settings.EXTRACTION_BATCH_SIZE
    for i in range(0, len(ids), size):
        articles_extract(article_ids=ids[i : i + size], rescore=False)
    settle_corpus()
    rescore_all()
    for story, article_id in zip(stories, ids, strict=True):
        story.article_id = article_id
    return time.perf_counter() - started


def settle_corpus() -> None:
    """What the background does after a burst of stories (corpus-level
    re-resolution), run here and now; absent before #11."""
    try:
        from entities.settle import corpus_settle
    except ImportError:
        return
    corpus_settle()


def measure(stories) -> dict:
    from entities.models import Entity, Mention

    mentions = defaultdict(list)  # article id -> [(start, end, entity id)]
    named = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC"}
    spurious = stored = 0
    gold_spans = {s.article_id: [(m.start, m.end) for m in s.mentions] for s in stories}
    for article_id, entity_id, spans, type_ in Mention.objects.visible().values_list(
        "article_id", "entity_id", "spans", "entity__type"
    ):
        for start, end in spans:
            mentions[article_id].append((start, end, entity_id))
            if type_ in named:
                stored += 1
                spurious += not any(
                    min(end, b) > max(start, a) for a, b in gold_spans.get(article_id, [])
                )

    from entities.normalize import name_key

    gold, system, strings, kinds = [], [], [], []
    judged = []
    found = 0
    entries_per_pair: dict[tuple[int, str], set[int]] = defaultdict(set)
    for story in stories:
        full = story.record["title"] + "\n\n" + story.record["text"]
        kind = "sports" if is_sports(story.record["title"]) else "other"
        for n, m in enumerate(story.mentions):
            kinds.append(kind)
            best, overlap = None, 0
            for start, end, entity_id in mentions[story.article_id]:
                shared = min(end, m.end) - max(start, m.start)
                if shared > overlap:
                    best, overlap = (start, end, entity_id), shared
            gold.append(m.identity)
            if best is None:
                system.append(f"missed:{story.id}:{n}")
                strings.append(f"missed:{story.id}:{n}")
                continue
            found += 1
            system.append(f"entity:{best[2]}")
            strings.append("string:" + full[best[0] : best[1]].lower())
            stored_key = name_key(full[best[0] : best[1]])
            judged.append((stored_key, best[2], m.identity, kind))
            entries_per_pair[(story.article_id, m.identity)].add(best[2])

    stories_of: dict[str, set[int]] = defaultdict(set)
    entities_of: dict[str, set[int]] = defaultdict(set)
    for (article_id, identity), entity_ids in entries_per_pair.items():
        stories_of[identity].add(article_id)
        entities_of[identity].update(entity_ids)
    gold_stories: dict[str, set[str]] = defaultdict(set)
    for story in stories:
        for m in story.mentions:
            gold_stories[m.identity].add(story.id)
    multi = [i for i, s in gold_stories.items() if len(s) >= 2]
    names = list(Entity.objects.visible().filter(story_count__gt=0).values_list("name", flat=True))
    found_only = [i for i, label in enumerate(system) if not label.startswith("missed:")]
    by_kind = {}
    for kind in ("other", "sports"):
        chosen = [i for i in found_only if kinds[i] == kind]
        by_kind[kind] = (
            b_cubed([gold[i] for i in chosen], [system[i] for i in chosen]),
            b_cubed([gold[i] for i in chosen], [strings[i] for i in chosen]),
            len(chosen),
        )
    rules, wrong_rules = rule_precision(judged)
    return {
        "by_kind": by_kind,
        "rules": rules,
        "wrong_rules": wrong_rules,
        "entities_of": entities_of,
        "spans": mentions,
        "system": b_cubed(gold, system),
        "strings": b_cubed(gold, strings),
        "system_found": b_cubed([gold[i] for i in found_only], [system[i] for i in found_only]),
        "strings_found": b_cubed([gold[i] for i in found_only], [strings[i] for i in found_only]),
        "mentions": len(gold),
        "found": found,
        "multi": len(multi),
        "multi_one": sum(1 for i in multi if len(entities_of[i]) == 1),
        "split_pairs": sum(1 for ids in entries_per_pair.values() if len(ids) >= 2),
        "entities": len(names),
        "spurious": (spurious, stored),
        "digits": sorted(n for n in names if any(ch.isdigit() for ch in n)),
        "shouted": sorted(n for n in names if is_shouted(n)),
    }


def raw_names(stories) -> dict[str, list[tuple[int, int, str]]]:
    """Story id -> the raw spaCy pipeline's names (start, end, text): spans
    whose label the model maps to a kept entity type, on the text NER reads."""
    from entities import nlp

    found = {}
    for story in stories:
        text = story.record["title"] + "\n\n" + story.record["text"]
        model, types = nlp.get_nlp(story.language), nlp.types_for(story.language)
        found[story.id] = [
            (e.start_char, e.end_char, e.text) for e in model(text).ents if e.label_ in types
        ]
    return found


def truncated(stories, spans_of) -> list[str]:
    """Gold names the best-overlapping span touches without covering whole."""
    cut = []
    for story in stories:
        full = story.record["title"] + "\n\n" + story.record["text"]
        for m in story.mentions:
            best, overlap = None, 0
            for start, end in spans_of(story):
                shared = min(end, m.end) - max(start, m.start)
                if shared > overlap:
                    best, overlap = (start, end), shared
            if best and overlap < m.end - m.start:
                cut.append(f"{m.surface} -> {full[best[0] : best[1]]}")
    return cut


def compare_raw(stories, r) -> dict:
    """The project next to the raw pipeline on the same stories."""
    raw = raw_names(stories)
    kept = total = 0
    missed = []
    for story in stories:
        stored = r["spans"].get(story.article_id, [])
        for start, end, text in raw[story.id]:
            total += 1
            if any(min(end, b) > max(start, a) for a, b, _ in stored):
                kept += 1
            else:
                missed.append(text)
    return {
        "raw": total,
        "kept": kept,
        "missed": missed,
        "cut": truncated(stories, lambda s: [(a, b) for a, b, _ in r["spans"][s.article_id]]),
        "raw_cut": truncated(stories, lambda s: [(a, b) for a, b, _ in raw[s.id]]),
    }


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--show", type=int, default=12, help="junk names to list")
    p.add_argument("--language", choices=["en", "fr", "both"], default="en")
    args = p.parse_args(argv)
    languages = ["en", "fr"] if args.language == "both" else [args.language]
    with database(args.db):
        from bench.gold import load_identity_gold

        by_language = {lang: load_identity_gold(language=lang) for lang in languages}
        stories = [s for lang in languages for s in by_language[lang]]
        seconds = run_pipeline(stories)
        r = measure(stories)
        per_language = {lang: measure(by_language[lang]) for lang in languages}
        raw = {lang: compare_raw(by_language[lang], per_language[lang]) for lang in languages}
        across = across_languages(by_language, r, per_language) if len(languages) > 1 else None
    for lang in languages:
        report_language(lang, per_language[lang], raw[lang], show=args.show)
    if across:
        print("\n" + across)
    sp, sr, sf = r["system"]
    bp, br, bf = r["strings"]
    print(
        f"identity gold: {len(stories)} stories, {r['mentions']:,} gold mentions; "
        + versions("postgres" if args.db == "postgres" else "sqlite")
    )
    print(f"pipeline (ingest, NER, resolution, rescoring): {seconds:.1f}s\n")
    print("| B³ over gold mentions | newsgraph | lower-cased strings |")
    print("|---|---|---|")
    print(f"| precision | {sp:.3f} | {bp:.3f} |")
    print(f"| recall | {sr:.3f} | {br:.3f} |")
    print(f"| F1 | {sf:.3f} | {bf:.3f} |")
    fp, fr, ff = r["system_found"]
    gp, gr, gf = r["strings_found"]
    print(
        f"| over the found mentions only: P / R / F1 | {fp:.3f} / {fr:.3f} / {ff:.3f} "
        f"| {gp:.3f} / {gr:.3f} / {gf:.3f} |"
    )
    for kind, label in (("other", "outside sports"), ("sports", "sports stories")):
        (kp, kr, kf), (sp_, sr_, sf_), n = r["by_kind"][kind]
        print(
            f"| {label} ({n:,} found mentions): P / R / F1 | {kp:.3f} / {kr:.3f} / {kf:.3f} "
            f"| {sp_:.3f} / {sr_:.3f} / {sf_:.3f} |"
        )
    print()
    print("| automatic rules, by origin | right | wrong | precision | unjudged |")
    print("|---|---|---|---|---|")
    for origin, (right, wrong, unjudged) in sorted(r["rules"].items()):
        share = f"{right / (right + wrong):.2f}" if right + wrong else "—"
        print(f"| {origin} | {right} | {wrong} | {share} | {unjudged} |")
    if args.show and r["wrong_rules"]:
        print("  wrong: " + "; ".join(r["wrong_rules"][: args.show * 3]))
    print()
    print(f"gold mentions found (a stored mention overlaps): {r['found'] / r['mentions']:.1%}")
    print(f"real entities in ≥ 2 stories that are one entity: {r['multi_one']} of {r['multi']}")
    spurious, stored = r["spurious"]
    print(
        f"stored mentions of people, organisations, places and groups that are no gold "
        f"mention (junk): {spurious} of {stored} ({spurious / max(stored, 1):.1%})"
    )
    print(f"(story, real entity) pairs split over ≥ 2 about-list entries: {r['split_pairs']}")
    print(f"entity names with digits: {len(r['digits'])} of {r['entities']}")
    print(f"entity names in capitals: {len(r['shouted'])}")
    if args.show:
        print("  digits: " + "; ".join(r["digits"][: args.show]))
        print("  capitals: " + "; ".join(r["shouted"][: args.show]))
    return 0


def report_language(language: str, r: dict, raw: dict, *, show: int) -> None:
    sp, sr, sf = r["system"]
    bp, br, bf = r["strings"]
    print(f"\n== {language}: {r['mentions']:,} gold mentions ==")
    print(
        f"B³ newsgraph P/R/F1 {sp:.3f} / {sr:.3f} / {sf:.3f}; "
        f"lower-cased strings {bp:.3f} / {br:.3f} / {bf:.3f}"
    )
    print(f"gold mentions found: {r['found'] / max(r['mentions'], 1):.1%}")
    print(
        f"raw {language} pipeline's names the project keeps: {raw['kept']} of {raw['raw']} "
        f"({raw['kept'] / max(raw['raw'], 1):.1%})"
    )
    print(f"truncated gold names: newsgraph {len(raw['cut'])}, raw pipeline {len(raw['raw_cut'])}")
    if show:
        print("  not kept: " + "; ".join(raw["missed"][:show]))
        print("  truncated: " + "; ".join(raw["cut"][:show]))


def across_languages(by_language: dict, r: dict, per_language: dict) -> str:
    """Identities named in both languages: one entity, or apart."""
    named = {
        lang: {m.identity for s in stories for m in s.mentions}
        for lang, stories in by_language.items()
    }
    shared = sorted(set.intersection(*named.values()))
    one = [i for i in shared if len(r["entities_of"][i]) == 1]
    # Split inside one language already (English NER's "Berlin Grand Prix") is
    # not the languages' doing: joined = the languages' entities meet.
    entities = [m["entities_of"] for m in per_language.values()]
    apart = [i for i in shared if not set.intersection(*(e[i] for e in entities))]
    from entities.languages.across import REASON
    from entities.models import DuplicateCandidate

    proposed = [
        f"{c.entity.name} / {c.other.name}"
        for c in DuplicateCandidate.objects.filter(reason=REASON).select_related("entity", "other")
    ]
    return (
        f"proposed to editors as one organisation in two languages: {len(proposed)}: "
        + "; ".join(proposed)
        + "\n"
        f"identities named in both languages that are one entity: {len(one)} of {len(shared)}\n"
        f"identities named in both languages whose English and French mentions share an "
        f"entity: {len(shared) - len(apart)} of {len(shared)}\n"
        "  apart: " + "; ".join(apart)
    )


if __name__ == "__main__":
    sys.exit(main())
