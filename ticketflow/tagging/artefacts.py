"""Intent models as files: one versioned skops artefact, written atomically, loaded by
workers and re-read when it changes.

skops's loader rebuilds only known, trusted types instead of unpickling arbitrary code.
"""

from __future__ import annotations

import json
import logging
import sys
import zipfile
from pathlib import Path

from skops import io as skops_io

from ticketflow.tagging import features, svm
from ticketflow.tagging.model import IntentModel

log = logging.getLogger(__name__)
FORMAT = 1
# Types beyond skops's defaults that an intent model holds, and nothing else is loaded.
_HELD = {f"{features.__name__}.tokens", f"{features.__name__}.SentenceEmbedding",
         f"{svm.__name__}.TextAndEmbeddingSVM"}
# Models saved before the classifier had a package of its own name the same types under
# one module, ticketflow.intents; they load as they are.
_LEGACY_MODULE = "ticketflow.intents"
_LEGACY = {f"{_LEGACY_MODULE}.{name.rpartition('.')[2]}" for name in _HELD}
TRUSTED = _HELD | _LEGACY | {"sklearn.calibration._CalibratedClassifier",
                             "sklearn.calibration._TemperatureScaling"}


def _legacy_module() -> None:
    if _LEGACY_MODULE not in sys.modules:
        module = type(sys)(_LEGACY_MODULE)
        module.__dict__.update(tokens=features.tokens, SentenceEmbedding=features.SentenceEmbedding,
                               TextAndEmbeddingSVM=svm.TextAndEmbeddingSVM)
        sys.modules[_LEGACY_MODULE] = module


def save(model: IntentModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    skops_io.dump({"pipeline": model.pipeline, "version": model.version,
                   "meta": json.dumps(model.meta)}, tmp, compression=8)
    tmp.replace(path)  # workers watching the file never see half of it


def load(path: Path) -> IntentModel:
    try:
        held = set(skops_io.get_untrusted_types(file=path))
        if held - TRUSTED:
            raise ValueError(f"holds {', '.join(sorted(held - TRUSTED))}")
        if held & _LEGACY:
            _legacy_module()
        doc = skops_io.load(path, trusted=sorted(TRUSTED))
        return IntentModel(pipeline=doc["pipeline"], version=doc["version"],
                           meta=json.loads(doc["meta"]))
    except (ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not an intent model ({exc})") from exc


_loaded: dict[Path, tuple[tuple[int, int], IntentModel]] = {}


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def is_loaded(path: Path | None) -> bool:
    """Whether `current(path)` answers from memory (no file to read, or read already)."""
    if path is None or not path.is_file():
        return True
    held = _loaded.get(path)
    return held is not None and held[0] == _stamp(path)


def current(path: Path | None) -> IntentModel | None:
    """The model at `path`, re-read when the file changes (a new `tagger train`).

    A file that cannot be loaded is refused and the last good model stays in use; with
    none loaded yet the error is raised, so a worker does not start with a broken model.
    """
    if path is None or not path.is_file():
        return None
    stamp = _stamp(path)
    held = _loaded.get(path)
    if held and held[0] == stamp:
        return held[1]
    try:
        model = load(path)
    except Exception:
        if held is None:
            raise
        log.exception("intent model %s refused, keeping %s", path, held[1].version)
        model = held[1]
    _loaded[path] = (stamp, model)
    return model
