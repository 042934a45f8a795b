"""French synthetic stories for bench.ingest --language fr (issue #26): the
same cast, names (bench.synthetic's Zipf pool) and shape as the English ones,
written as French wire copy, so that the French pipeline is timed on stories
as name-dense as the English ones.
"""

from __future__ import annotations

from collections.abc import Iterator

from bench import synthetic

SENTENCES = [
    "{a} a rencontré {b} à {p} {day} pour discuter de la proposition, selon des sources "
    "proches des négociations.",
    "Des responsables de {o} ont indiqué que la décision serait réexaminée d'ici la fin du mois.",
    '{a} a déclaré à la presse à {p} que l\'accord était "une première étape nécessaire" et a '
    "exhorté {o} à agir.",
    "L'initiative de {o} a été critiquée par {b}, qui l'a jugée précipitée et mal expliquée.",
    "Les analystes à {p} s'attendent à ce que {o} annonce de nouvelles mesures une fois les "
    "chiffres publiés.",
    "Selon un communiqué de {o}, les discussions avec {o2} reprendront à {p} la semaine prochaine.",
    "{b} a estimé que le plan pourrait coûter plusieurs milliards et nécessiterait le soutien "
    "de {o}.",
    "Les habitants de {p} manifestent depuis des semaines pour exiger que {a} rencontre leurs "
    "représentants.",
    "Un porte-parole de {o2} s'est refusé à tout commentaire, invoquant des négociations en cours.",
    "Le différend entre {o} et {o2} a déstabilisé les marchés de {p} à {p2}.",
    "Dans un entretien, {a} a reconnu que le calendrier était ambitieux mais réalisable.",
    "Les critiques, dont {b}, estiment que les règles favorisent les grandes entreprises comme "
    "{o}.",
    "Le rapport, commandé par {o}, montre que les retards à {p} ont doublé depuis l'an dernier.",
    "{a} doit se rendre à {p2} plus tard dans la semaine pour rencontrer {b}.",
    "L'action de {o} a nettement reculé après l'annonce avant de se reprendre dans l'après-midi.",
    "Les députés de {p} voteront sur la mesure {day}, et {a} a promis de la soutenir.",
]
DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def stories(count: int, *, start_index: int = 0) -> Iterator[dict]:
    for record in synthetic.stories(count, start_index=start_index, templates=SENTENCES, days=DAYS):
        cast = record.pop("cast")
        record["title"] = (
            f"{cast['a']} et {cast['o']} en désaccord sur les projets pour {cast['p']}"
        )
        record["url"] = record["url"].replace("news.example.com/world", "depeche.example.fr/monde")
        yield record
