import pytest

from ticketflow.tickets.dedupe import fingerprint, normalise


def test_normalise_folds_case_width_and_whitespace() -> None:
    assert normalise("  Cannot\tLOGIN\n\n now ") == "cannot login now"
    assert normalise("ＡＢＣ") == "abc"


def test_same_user_same_text_after_normalising_is_the_same_fingerprint() -> None:
    assert fingerprint("u1", "Refund  please", "Money BACK") == fingerprint(
        "u1", "refund please", " money back ")


def test_user_subject_and_content_each_matter() -> None:
    base = fingerprint("u1", "a", "b")
    assert base != fingerprint("u2", "a", "b")
    assert base != fingerprint("u1", "a b", "")
    assert base != fingerprint("u1", "a", "c")


@pytest.mark.parametrize("invisible", ["\u200b", "\u200d", "\u00ad", "\ufeff", "\u200f", "\u2060"])
def test_invisible_format_characters_do_not_make_a_new_fingerprint(invisible: str) -> None:
    base = fingerprint("u1", "Refund please", "I was charged twice")
    assert fingerprint("u1", f"Re{invisible}fund please", "I was charged twice") == base
    assert fingerprint("u1", "Refund please", f"I was {invisible}charged twice{invisible}") == base


def test_the_customer_id_is_compared_exactly_after_nfc() -> None:
    assert fingerprint("Ann", "a", "b") != fingerprint("ann", "a", "b")
    assert fingerprint("ＡＢ", "a", "b") != fingerprint("AB", "a", "b")
    assert fingerprint("e\u0301", "a", "b") == fingerprint("\u00e9", "a", "b")  # é either way
