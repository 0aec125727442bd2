"""Text folding: the one rule by which people's spellings of a name are compared.

"Sénart", "senart" and "SENART" are one name; so are "Cergy-Pontoise" and "Cergy Pontoise", and
"l'Ouest" and "l’Ouest". Search, name resolution in imports and accent-insensitive sorting all
fold with this function, so that what one finds the others find too.
"""

import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+")
# Ligatures that Unicode does not decompose but French writes: « œuvre », « ex æquo ».
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})


def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: accents, case, hyphens,
    apostrophes and other punctuation do not count."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _NOT_WORD.sub(" ", bare.casefold().translate(_LIGATURES))
    return " ".join(words.encode("ascii", "ignore").decode().split())
