from ticketflow.tagging.words import document, words


def test_chinese_is_segmented_into_words() -> None:
    assert words("我无法登录账号，请尽快退款").split() == ["我", "无法", "登录", "账号", "请", "尽快", "退款"]


def test_mixed_text_keeps_english_words_and_drops_punctuation() -> None:
    assert document("Refund for order 42", "退款申请!").split() == [
        "refund", "for", "order", "42", "退款", "申请"]
