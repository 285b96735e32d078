"""Tagging in English and Chinese (:mod:`.tagger`) and the learned intent classifier.

- :mod:`.words` — jieba word segmentation, shared with full-text search;
- :mod:`.features` — what the classifier reads: words and a sentence embedding;
- :mod:`.svm` — its estimator, two linear SVMs whose scores add up;
- :mod:`.training` — training on labelled tickets; :mod:`.model` — the trained model's
  fast per-ticket scoring; :mod:`.artefacts` — saved models, loaded and hot-reloaded;
- :mod:`.evaluation` — accuracy, macro-F1, cross-validation;
- :mod:`.workflow` — tagging text on the worker, for processes without the classifier.

The taxonomy is read from the flows folder by :mod:`ticketflow.flows.taxonomy`.

May import: vocabulary, infra
"""
