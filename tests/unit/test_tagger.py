"""The tagger: language, taxonomy tags (Chinese segmented), intent, sentiment, urgency."""

from __future__ import annotations

import pytest

from ticketflow.flows import FlowError
from ticketflow.flows.taxonomy import compile_taxonomy, load_taxonomy
from ticketflow.tagging.tagger import detect_language, tag

TAXONOMY = load_taxonomy()


@pytest.mark.parametrize(("text", "language"), [
    ("I cannot log in", "en"), ("我无法登录账号", "zh"), ("我的 order 没有发货", "zh"),
    ("12345 !!!", "other"),
])
def test_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_english_tags_intent_and_urgency() -> None:
    result = tag("Refund please", "I was charged twice, this is URGENT", TAXONOMY)
    assert result.tags == ["refund", "billing", "urgent"]
    assert (result.intent, result.urgent, result.language) == ("refund", True, "en")
    assert result.model_version == load_taxonomy().version


@pytest.mark.parametrize(("subject", "content", "tags", "sentiment"), [
    ("退款", "请帮我处理", ["refund"], "neutral"),
    ("求助", "我无法登录", ["login"], "neutral"),
    ("投诉", "我很生气", ["angry"], "negative"),
    ("紧急", "服务器崩溃了", ["bug", "urgent"], "neutral"),
    ("谢谢", "问题解决了，很满意", [], "positive"),
])
def test_chinese_tags_after_segmentation(subject: str, content: str, tags: list[str],
                                         sentiment: str) -> None:
    result = tag(subject, content, TAXONOMY)
    assert set(tags) <= set(result.tags)
    assert (result.language, result.sentiment) == ("zh", sentiment)


def test_phrases_match_whole_words_only() -> None:
    assert "login" not in tag("登录名", "修改登录名", TAXONOMY).tags  # 登录名 is its own word
    assert "bug" not in tag("Terror", "errors are not words here: terrorist", TAXONOMY).tags


def test_mixed_language_ticket() -> None:
    result = tag("Refund 退款", "my parcel 没有发货, very angry", TAXONOMY)
    assert {"refund", "shipping", "angry"} <= set(result.tags)
    assert result.sentiment == "negative"


def test_deterministic_and_versioned_by_content() -> None:
    assert tag("a crash", "error", TAXONOMY) == tag("a crash", "error", TAXONOMY)
    source = "tags:\n  x:\n    en: [foo]\n"
    assert compile_taxonomy(source).version != compile_taxonomy(source + "# edited\n").version
    assert tag("foo", "bar", compile_taxonomy(source)).tags == ["x"]


@pytest.mark.parametrize(("source", "message"), [
    ("tags: {}\n", "should be non-empty"),
    ("tags:\n  Bad Name:\n    en: [x]\n", "does not match"),
    ("tags:\n  x: {}\n", "is not valid under any of the given schemas"),
    ("tags:\n  x:\n    en: [x]\nurgent: [nope]\n", "unknown tags"),
])
def test_invalid_taxonomy_is_refused(source: str, message: str) -> None:
    with pytest.raises(FlowError, match=message):
        compile_taxonomy(source, "taxonomy.yaml")
