"""A booking's contact phone: checked, encrypted at rest, masked for display, keyed for limits.

The phone is personal information (PIPL).  It is stored only encrypted (Fernet, AES-128-CBC
with HMAC-SHA256, key derived from the instance's secret, :func:`office.instance.secret_for`),
shown masked (``138****5678``) to anyone but the owning department, and replaced for the
per-person booking limit by an HMAC (``person_key``) that reveals nothing without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets

from cryptography.fernet import Fernet, InvalidToken

from layers.errors import BookingError
from office.instance import secret_for

#: A mainland mobile number (11 digits starting 1[3-9]); spaces, dashes and +86 are accepted.
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
#: Letters of a cancellation code (no 0/O, 1/I/L).
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def normalize_phone(text: str) -> str:
    """The 11 digits of a mainland mobile number; a coded :class:`BookingError` otherwise."""
    digits = re.sub(r"[\s\-()]", "", str(text or ""))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not _MOBILE.fullmatch(digits):
        raise BookingError.coded("booking.bad_phone")
    return digits


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(secret_for("booking-contacts")))


def encrypt_phone(phone: str) -> str:
    """The phone encrypted for storage (text)."""
    return _fernet().encrypt(phone.encode("ascii")).decode("ascii")


def decrypt_phone(token: str) -> str:
    """The phone back from :func:`encrypt_phone` (a coded error when the key changed)."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise BookingError.coded("booking.contact_key") from None


def mask_phone(phone: str) -> str:
    """``138****5678``."""
    return phone[:3] + "****" + phone[-4:]


def person_key(phone: str) -> str:
    """A keyed hash of the phone: the same person across bookings, nobody's number."""
    return hmac.new(secret_for("booking-person"), phone.encode("ascii"), hashlib.sha256).hexdigest()


def new_cancel_code() -> str:
    """An 8-letter code the resident keeps to cancel (40 bits)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def code_hash(booking_id: str, code: str) -> str:
    """What is stored of a cancellation code."""
    clean = re.sub(r"\s", "", str(code or "")).upper()
    return hmac.new(secret_for("booking-codes"), f"{booking_id}/{clean}".encode(), hashlib.sha256).hexdigest()


def code_matches(booking_id: str, code: str, stored: str) -> bool:
    """Whether ``code`` is the booking's (constant time)."""
    return hmac.compare_digest(code_hash(booking_id, code), stored or "")


def request_fingerprint(key_id: str, canonical: str) -> str:
    """What is stored of a partner's request body: a keyed hash, to tell the same request from another one
    sent with the same Idempotency-Key."""
    return hmac.new(secret_for("booking-requests"), f"{key_id}\0{canonical}".encode("utf-8"),
                    hashlib.sha256).hexdigest()


def replay_key(api_key: str, canonical: str) -> bytes:
    """The key that seals a first answer for its retry: made from the partner's own API key (of which only a
    hash is stored) and the request body, so only the same partner sending the same body can open it."""
    return hmac.new(secret_for("booking-replay"), f"{api_key}\0{canonical}".encode("utf-8"),
                    hashlib.sha256).digest()


def seal_answer(answer: dict, key: bytes) -> str:
    """``answer`` (the first outcome and the cancel code) encrypted with AES-GCM under ``key``, as text."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(answer, sort_keys=True).encode("utf-8"), b"onemap-replay")
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_answer(token: str | None, key: bytes) -> dict | None:
    """The answer sealed by :func:`seal_answer`, or ``None`` when ``key`` is not the one it was sealed with."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
        return json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], b"onemap-replay"))
    except (InvalidTag, ValueError):
        return None


def key_hash(api_key: str) -> str:
    """What is stored of a partner's API key (the key is 32 random bytes: a plain SHA-256 suffices)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


__all__ = ["normalize_phone", "encrypt_phone", "decrypt_phone", "mask_phone", "person_key", "new_cancel_code",
           "code_hash", "code_matches", "key_hash", "request_fingerprint", "replay_key", "seal_answer", "open_answer"]
