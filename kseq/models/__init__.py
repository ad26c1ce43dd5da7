"""``kseq.models``: ``Sequential``, ``Model`` and Keras's model-file functions.

Example:
    >>> from kseq.models import Sequential
    >>> Sequential().layers
    []
"""

from kseq.models.cloning import clone_model as clone_model
from kseq.models.functional import Functional as _Functional  # noqa: F401 (registers Model(inputs, outputs))
from kseq.models.model import Model as Model
from kseq.models.module_model import ModuleModel as ModuleModel
from kseq.models.sequential import Sequential as Sequential
from kseq.saving.api import load_model as load_model
from kseq.saving.api import model_from_json as model_from_json
from kseq.saving.api import save_model as save_model
