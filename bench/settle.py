"""What settling costs (entities/settle.py): the background pass that re-decides
the type and display name of every entity a batch of new stories touched, and
proposes their look-alikes to editors.

Marks the entities named by the newest `--stories` stories as touched (as
extraction does), settles them `--passes` times (the first pass may read cold
pages) and prints, for each pass, the milliseconds an entity with the SQL's
share. Next to it, the plain baseline for the pass's biggest read: each
entity's newest mentions read through the ORM one entity at a time, as the
pass did before `MentionQuerySet.newest_of_each`.

    python -m bench.settle --database-url postgres://…/newsgraph     # a loaded corpus
    python -m bench.settle --stories 200                              # quick, a new database
"""

from __future__ import annotations

import time
from collections import Counter

from bench.common import database, parser


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--stories", type=int, default=1000, help="the newest stories' entities")
    p.add_argument("--load", type=int, default=300, help="loaded when the database is empty")
    p.add_argument("--passes", type=int, default=3)
    args = p.parse_args(argv)

    with database(args.db, url=args.database_url):
        from django.db import connection
        from django.db.models import Max

        from articles.models import Article
        from bench import corpus
        from entities.corpus import mark_unsettled
        from entities.models import Entity, Mention
        from entities.settle import SETTLE_SAMPLE, corpus_settle

        if not Article.objects.exists():
            corpus.load(args.load)
        newest = (Article.objects.aggregate(top=Max("id"))["top"] or 0) - args.stories
        touched = sorted(
            set(Mention.objects.filter(article_id__gt=newest).values_list("entity_id", flat=True))
        )
        print(
            f"{connection.vendor}: {Article.objects.count():,} stories;"
            f" the newest {args.stories:,} name {len(touched):,} entities"
        )
        sql_seconds: Counter = Counter()

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                sql_seconds["total"] += time.perf_counter() - started
                sql_seconds["queries"] += 1

        for n in range(1, args.passes + 1):
            mark_unsettled(touched)
            sql_seconds.clear()
            with connection.execute_wrapper(timed):
                started = time.perf_counter()
                settled = corpus_settle()
                seconds = time.perf_counter() - started
            print(
                f"  pass {n}: {settled:,} entities in {seconds:.2f} s ="
                f" {1000 * seconds / max(settled, 1):.2f} ms an entity"
                f" ({sql_seconds['queries'] / max(settled, 1):.1f} queries,"
                f" SQL {100 * sql_seconds['total'] / seconds:.0f} % of it)"
            )

        batch = Entity.objects.filter(pk__in=touched[:2000]).values_list("pk", flat=True)
        ids = list(batch)
        started = time.perf_counter()
        for entity_id in ids:
            list(
                Mention.objects.filter(entity_id=entity_id)
                .newest_first()
                .values_list("label", "surfaces")[:SETTLE_SAMPLE]
            )
        one_by_one = time.perf_counter() - started
        started = time.perf_counter()
        Mention.objects.newest_of_each(ids, "label", "surfaces", limit=SETTLE_SAMPLE)
        batched = time.perf_counter() - started
        print(
            f"  each entity's newest {SETTLE_SAMPLE} mentions, {len(ids):,} entities:"
            f" ORM one by one {1000 * one_by_one / len(ids):.2f} ms an entity (baseline),"
            f" newest_of_each {1000 * batched / len(ids):.2f} ms"
            f" ({one_by_one / batched:.1f}x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
