"""Plumbing every layer may use: the page cache, the task queue, ranked-id pages.

Imports Django and Celery only, never an app: `articles`, `entities` and the
pages all sit on top of it (docs/ARCHITECTURE.md).
"""
