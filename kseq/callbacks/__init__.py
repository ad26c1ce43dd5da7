"""``kseq.callbacks``: Keras's callback API.

Example:
    >>> sorted(n for n in ("Callback", "History", "ProgbarLogger", "CallbackList") if n in globals())
    ['Callback', 'CallbackList', 'History', 'ProgbarLogger']
"""

from kseq.callbacks.callback import Callback as Callback
from kseq.callbacks.callback_list import CallbackList as CallbackList
from kseq.callbacks.history import History as History
from kseq.callbacks.progbar_logger import ProgbarLogger as ProgbarLogger
