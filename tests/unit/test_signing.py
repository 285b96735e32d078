"""Standard Webhooks signatures: what ticketflow sends verifies with the receiver's code that
docs/security.md shows (run here as written), and nothing tampered, late or unsigned does."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from ticketflow.infra import signing
from ticketflow.infra.settings import ROOT, Settings, WebhookSubscriber


def documented_verifier() -> Callable[[str, dict[str, str], bytes], bool]:
    text = (ROOT / "docs" / "security.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    namespace: dict[str, object] = {}
    exec(code, namespace)  # noqa: S102 - the documentation's own example
    return namespace["verify_webhook"]  # type: ignore[return-value]


def test_a_signed_delivery_verifies_with_the_documented_code() -> None:
    verify_webhook, secret = documented_verifier(), signing.new_secret()
    body = b'{"event_id":"01J:1","kind":"created"}'
    headers = {k.lower(): v for k, v in signing.headers(secret, "01J:1", body).items()}
    assert verify_webhook(secret, headers, body)
    assert signing.verify(secret, headers, body)
    assert headers["webhook-signature"].startswith("v1,")

    assert not verify_webhook(secret, headers, body + b" ")
    assert not verify_webhook(signing.new_secret(), headers, body)
    assert not verify_webhook(secret, headers | {"webhook-id": "01J:2"}, body)
    late = {k.lower(): v for k, v in signing.headers(
        secret, "01J:1", body, now=int(time.time()) - 301).items()}
    assert not verify_webhook(secret, late, body)
    assert not signing.verify(secret, late, body)
    assert not signing.verify(secret, {}, body)


def test_a_known_vector() -> None:
    # The Standard Webhooks specification's example secret and message.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert signing.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize("secret", ["", "change-me", "whsec_", "whsec_c2hvcnQ=", "whsec_!!"])
def test_weak_secrets_are_refused_at_start(secret: str) -> None:
    with pytest.raises(ValueError, match="webhook secret"):
        WebhookSubscriber(url="http://x", secret=secret)
    if secret:
        with pytest.raises(ValueError, match="webhook secret"):
            Settings(_env_file=None, notify_secret=secret)
    assert Settings(_env_file=None, webhook_subscribers=[
        {"url": "http://x", "secret": signing.new_secret()}]).webhook_subscribers
