"""Standard Webhooks signatures, checked by the reference library (``standardwebhooks`` from
PyPI) and against the specification's worked example."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from ledger.errors import InputError
from ledger.watch import new_secret, secret_key, signature_header, signatures

#: The example of the Standard Webhooks specification (its "Signature scheme" section).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specifications_example() -> None:
    assert signatures(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    reference = Webhook(SPEC_SECRET).sign(
        SPEC_ID, datetime.fromtimestamp(SPEC_TIMESTAMP, tz=UTC), SPEC_BODY
    )
    assert reference == SPEC_SIGNATURE


def test_the_reference_library_accepts_our_headers_with_either_secret() -> None:
    old, new = new_secret(), new_secret()
    now = int(datetime.now(tz=UTC).timestamp())
    body = '{"type":"agreement.changed","data":{"note":"协议"}}'.encode()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": signature_header([new, old], "msg_1", now, body),
    }
    assert headers["webhook-signature"].count("v1,") == 2
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers)["data"]["note"] == "协议"
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(new).verify(body + b" ", headers)  # a byte changed


def test_a_fresh_secret_is_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first != second and first.startswith("whsec_")
    assert len(secret_key(first)) == 32


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with whsec_"),
        ("whsec_not base64!", "whsec_ and base64"),
        ("whsec_c2hvcnQ=", "24 to 64 bytes"),
        ("whsec_" + "QUFB" * 30, "24 to 64 bytes"),
    ],
    ids=["no-prefix", "not-base64", "too-short", "too-long"],
)
def test_a_malformed_secret_is_refused(secret: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        secret_key(secret)
