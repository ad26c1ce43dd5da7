"""``kseq.models``: ``Sequential`` and ``Model``.

Example:
    >>> from kseq.models import Sequential
    >>> Sequential().layers
    []
"""

from kseq.models.model import Model as Model
from kseq.models.sequential import Sequential as Sequential
