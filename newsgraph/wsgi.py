import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsgraph.settings.base")
application = get_wsgi_application()

# What start-up built (settings, URL resolvers, models, the template engine)
# lives as long as the process: moved out of the collector's generations, it
# is no longer walked by every full collection during a request, which was
# most of the pages' p95 tail (docs/BENCHMARKS.md).
gc.collect()
gc.freeze()
