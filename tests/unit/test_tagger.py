import pytest

from ticketflow.tagger import detect_language, tag


@pytest.mark.parametrize(("text", "language"), [
    ("I cannot log in", "en"), ("我无法登录账号", "zh"), ("我的 order 没有发货", "zh"),
    ("12345 !!!", "other"),
])
def test_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_english_tags_and_intent() -> None:
    result = tag("Refund please", "I was charged twice, this is URGENT")
    assert result.tags == ["refund", "billing", "urgent"]
    assert result.intent == "refund"
    assert result.language == "en"


def test_chinese_tags() -> None:
    result = tag("退款", "无法登录，我很生气，紧急！")
    assert set(result.tags) == {"refund", "login", "urgent", "angry"}
    assert result.intent == "refund"
    assert result.language == "zh"


def test_deterministic() -> None:
    assert tag("a crash", "error") == tag("a crash", "error")
