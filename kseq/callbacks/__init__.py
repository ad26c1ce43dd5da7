"""``kseq.callbacks``: Keras's callback API.

Example:
    >>> sorted(n for n in ("Callback", "History", "ProgbarLogger", "CallbackList") if n in globals())
    ['Callback', 'CallbackList', 'History', 'ProgbarLogger']
"""

from kseq.callbacks.backup_and_restore import BackupAndRestore as BackupAndRestore
from kseq.callbacks.callback import Callback as Callback
from kseq.callbacks.callback_list import CallbackList as CallbackList
from kseq.callbacks.csv_logger import CSVLogger as CSVLogger
from kseq.callbacks.early_stopping import EarlyStopping as EarlyStopping
from kseq.callbacks.history import History as History
from kseq.callbacks.lambda_callback import LambdaCallback as LambdaCallback
from kseq.callbacks.learning_rate_scheduler import LearningRateScheduler as LearningRateScheduler
from kseq.callbacks.model_checkpoint import ModelCheckpoint as ModelCheckpoint
from kseq.callbacks.monitor_callback import MonitorCallback as MonitorCallback
from kseq.callbacks.progbar_logger import ProgbarLogger as ProgbarLogger
from kseq.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau as ReduceLROnPlateau
from kseq.callbacks.swap_ema_weights import SwapEMAWeights as SwapEMAWeights
from kseq.callbacks.tensorboard import TensorBoard as TensorBoard
from kseq.callbacks.terminate_on_nan import TerminateOnNaN as TerminateOnNaN
from kseq.callbacks.tqdm_progress_bar import TqdmProgressBar as TqdmProgressBar
from kseq.core.not_ported import missing as _missing


def __getattr__(name: str) -> object:
    # A Keras name kseq does not have says why, and what to write instead (core/not_ported.py).
    raise _missing("kseq.callbacks", name)
