"""A resourceVersion from a client is a revision of this server or a 400, never a crash.

`str.isdigit` holds for superscripts and other scripts' digits, and `int` refuses strings past
4300 digits: each once turned a list or watch into a 500 or into another revision.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pytest_syncer.apiserver.api.errors import APIError
from pytest_syncer.apiserver.api.object_api import MAX_REVISION, parse_revision


@given(st.text(max_size=30))
@example("\u00b2")
@example("\u0663")
@example("-5")
@example(" 5")
@example("9" * 5000)
@example(str(MAX_REVISION + 1))
def test_any_text_is_a_revision_or_a_400(text: str) -> None:
    try:
        revision = parse_revision(text)
    except APIError as error:
        refused: APIError | None = error
    else:
        refused = None
    if refused is not None:
        assert refused.code == 400
        assert "is not a resource version of this server" in refused.message
    elif text == "":
        assert revision is None
    else:
        assert revision is not None
        assert 0 <= revision <= MAX_REVISION
        assert text.isascii()
        assert revision == int(text)


@given(st.integers(0, MAX_REVISION))
def test_every_revision_reads_back(revision: int) -> None:
    assert parse_revision(str(revision)) == revision


@pytest.mark.parametrize("value", [5, 5.0, ["5"], {"rv": "5"}, True])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(APIError) as refused:
        parse_revision(value)
    assert refused.value.code == 400
