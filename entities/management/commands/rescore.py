from django.core.management.base import BaseCommand

from entities.scoring import rescore_all


class Command(BaseCommand):
    help = "Recompute story counts, specificity, scores and stars for the whole corpus."

    def handle(self, *args, **options):
        report = rescore_all()
        self.stdout.write(
            f"rescore: {report.pairs} (story, entity) pairs over {report.stories} stories and "
            f"{report.entities} entities in {report.seconds:.2f}s;"
            f" {report.stars_changed} stars changed"
        )
