"""Signals stories send for layers above them to act on.

`articles` never imports those layers; they connect receivers in their
AppConfig.ready() (entities/apps.py).
"""

from django.dispatch import Signal

# An editor changed a stored story's publication date. Sent after the save
# with `article_id`; entities copies the date onto the story's mentions.
story_redated = Signal()
