"""Session and socket ids: 20 URL-safe characters of 15 random bytes each, never repeated."""

from __future__ import annotations

import base64

from thinkio._ids import new_id


def test_ids_are_15_random_bytes_in_base64url_across_batches() -> None:
    ids = [new_id() for _ in range(300)]  # several batches of 64
    assert len(set(ids)) == len(ids)
    for sid in ids:
        assert len(sid) == 20
        assert set(sid) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert len(base64.urlsafe_b64decode(sid)) == 15
