"""CloudTrail event history and trail status checked against AWS's documentation (audit 16),
on a server of this module's own with a one-second delivery interval: NextToken belongs to
the query that returned it, whatever the event category asked for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .server import Server, start


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(Path(tmp_path_factory.mktemp("ct-lookup-audit16")),
                   extra_args=("--delivery-interval", "1"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ct(srv: Server) -> Any:
    return srv.client("cloudtrail")


def refusal(call: Any, **params: Any) -> str:
    """The error code of a call that must fail with HTTP 400."""
    with pytest.raises(ClientError) as exc:
        call(**params)
    response = exc.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400, response
    return str(response["Error"]["Code"])


def some_token(srv: Server, ct: Any) -> str:
    """A NextToken of an unfiltered management-event lookup (two calls make two events)."""
    iam: Any = srv.client("iam")
    iam.list_users()
    iam.list_roles()
    page = ct.lookup_events(MaxResults=1)
    assert len(page["Events"]) == 1
    token: str = page["NextToken"]
    return token


# -- NextToken ----------------------------------------------------------------------------------


def test_insight_lookup_refuses_a_token_of_another_query(srv: Server, ct: Any) -> None:
    """AWS: a NextToken must come with the parameters of the call that returned it, else
    InvalidNextTokenException (LookupEvents API reference) - also when EventCategory=insight
    is what changed."""
    token = some_token(srv, ct)
    assert refusal(ct.lookup_events, EventCategory="insight",
                   NextToken=token) == "InvalidNextTokenException"
    assert refusal(ct.lookup_events, EventCategory="insight",
                   NextToken="not-a-token") == "InvalidNextTokenException"
    # Without a token an Insights lookup answers an empty list, and the token still works for
    # the query it belongs to.
    assert ct.lookup_events(EventCategory="insight")["Events"] == []
    assert len(ct.lookup_events(MaxResults=1, NextToken=token)["Events"]) == 1
