"""Keyword tagging in English and Chinese: language, tags and a coarse intent.

Deterministic and pure, so the tagging activity can be retried freely and the
same text always gets the same tags.
"""

from __future__ import annotations

import re

from ticketflow.domain import Tagging

MODEL_VERSION = "keywords-2"

# tag -> phrases (lower-case English, or Chinese).
TAXONOMY: dict[str, tuple[str, ...]] = {
    "refund": ("refund", "money back", "chargeback", "退款", "退钱"),
    "billing": ("invoice", "billing", "charged", "payment", "账单", "扣费", "付款", "支付"),
    "login": ("log in", "login", "password", "sign in", "locked out", "登录", "密码"),
    "bug": ("error", "crash", "broken", "bug", "doesn't work", "报错", "崩溃", "故障"),
    "shipping": ("delivery", "shipping", "parcel", "tracking", "物流", "快递", "发货"),
    "account": ("account", "profile", "账号", "账户"),
    "urgent": ("urgent", "asap", "immediately", "emergency", "紧急", "马上", "立刻"),
    "angry": ("angry", "furious", "terrible", "unacceptable", "生气", "愤怒", "投诉"),
}

NEGATIVE = ("angry", "furious", "terrible", "awful", "unacceptable", "worst", "ridiculous",
            "disappointed", "scam", "生气", "愤怒", "投诉", "失望", "太差", "垃圾", "骗")
POSITIVE = ("thank", "thanks", "great", "love", "appreciate", "excellent", "谢谢", "感谢", "满意", "很好")

# The first matching tag in this order names the intent.
INTENT_ORDER = ("refund", "login", "billing", "bug", "shipping", "account")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> str:
    cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text))
    if cjk == 0 and latin == 0:
        return "other"
    return "zh" if cjk * 3 >= latin else "en"


def tag(subject: str, content: str) -> Tagging:
    text = f"{subject}\n{content}"
    lowered = text.casefold()
    tags = [name for name, phrases in TAXONOMY.items() if any(p in lowered for p in phrases)]
    intent = next((t for t in INTENT_ORDER if t in tags), None)
    score = sum(p in lowered for p in POSITIVE) - sum(n in lowered for n in NEGATIVE)
    sentiment = "negative" if score < 0 else "positive" if score > 0 else "neutral"
    return Tagging(language=detect_language(text), tags=tags, intent=intent,
                   intent_confidence=1.0 if intent else 0.0, sentiment=sentiment,
                   urgent="urgent" in tags, model_version=MODEL_VERSION)
