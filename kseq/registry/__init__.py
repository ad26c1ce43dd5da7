"""The registry floor: names to objects and back, for every catalogue.

User registration (``register_keras_serializable``, ``custom_object_scope``), the one name lookup
with its "did you mean" error, safe mode, and Keras object configs. Catalogues (activations, losses,
layers...) register their tables here; nothing here imports a catalogue. The public names are
re-exported by ``kseq.saving`` and ``kseq.utils``.
"""
