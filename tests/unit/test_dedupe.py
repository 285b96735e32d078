from ticketflow.dedupe import fingerprint, normalise


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
