"""The ground floor: helpers every other part of kseq may use, importing nothing above them.

Naming (Keras auto-names), console I/O, atomic file writes, progress bar, shapes and convolution
arithmetic, array helpers, ``PyDataset``, and lazy ``torch.compile``. Public names are re-exported by
the namespaces users know (``kseq.utils``, ``kseq.saving``...); import from the defining module here.
"""
