"""The folding rule that search and name resolution share."""

from hypothesis import given
from hypothesis import strategies as st

from coopdec_kg.content.folding import fold


def test_accents_case_hyphens_and_apostrophes_do_not_count() -> None:
    assert fold("Sénart") == fold("senart") == fold("SENART") == "senart"
    assert fold("Cergy-Pontoise") == fold("cergy pontoise") == "cergy pontoise"
    assert fold("Pays de l’Ouest") == fold("pays de l'ouest") == "pays de l ouest"
    assert fold("  Œuvre  ") == "oeuvre"


@given(st.text())
def test_folding_is_idempotent_and_ascii(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert folded.isascii()
    assert folded == folded.strip()
    assert "  " not in folded
