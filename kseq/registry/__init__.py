"""The registry floor: names to objects and back, for every catalogue.

User registration (``register_keras_serializable``, ``custom_object_scope``), the one name lookup
with its "did you mean" error, safe mode, Keras object configs, and the one ``Namespace`` type
(:mod:`kseq.registry.namespace`) whose ``get``/``serialize``/``deserialize`` every catalogue uses.
Catalogues (activations, losses, layers...) and models register their names here; nothing here
imports a catalogue. The public names are re-exported by ``kseq.saving`` and ``kseq.utils``.
"""
