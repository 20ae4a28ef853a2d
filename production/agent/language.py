"""Which supported language a message is written in (py3langid, its model in the wheel).

The supported languages are English, German, Spanish, French and Portuguese
(context/brand-voice.md, rule 6): the multilingual embedding model finds the English passage
for a question in any of them, and the notes written in code (a closing's reply, a security
incident's holding reply) exist in each. The detector is restricted to those five, so it
never answers a language we cannot reply in; a message too short or too mixed to tell is
English, the brand voice's fallback.
"""

from __future__ import annotations

import threading
from typing import Any, Final

SUPPORTED: Final = ("en", "de", "es", "fr", "pt")
FALLBACK: Final = "en"
# Under this normalised probability the message is too short or too mixed to tell.
MIN_CONFIDENCE: Final = 0.45

_lock = threading.Lock()
_identifier: Any = None  # py3langid's LanguageIdentifier (no type hints), loaded on first use


def _loaded() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(SUPPORTED))
            _identifier = identifier
    return _identifier


def detect(text: str) -> str:
    """Return the message's language code among `SUPPORTED` (English when unsure)."""
    if not text.strip():
        return FALLBACK
    code, probability = _loaded().classify(text)
    return str(code) if probability >= MIN_CONFIDENCE else FALLBACK
