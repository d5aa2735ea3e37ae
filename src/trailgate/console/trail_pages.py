"""CloudTrail pages: trails with their status, and event history (lookup attributes, a time
range, paging, each event's JSON)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode

from starlette.responses import Response

from ..services.cloudtrail.events import ATTRIBUTE_KEYS
from .web import Page, page

PAGE_SIZE: Final = 50


@page
async def trails(ctx: Page) -> Response:
    listed = (await ctx.call("cloudtrail", "DescribeTrails", {"includeShadowTrails": True})
              ).get("trailList") or []
    rows = []
    for trail in listed:
        status, failure = await ctx.attempt("cloudtrail", "GetTrailStatus",
                                            {"Name": trail["TrailARN"]},
                                            resource=trail["TrailARN"])
        rows.append({"trail": trail, "status": status or {}, "failure": failure})
    return ctx.render("trails.html", title="Trails", rows=rows)


def _moment(text: str) -> datetime | None:
    """``<input type=datetime-local>`` (UTC) or an ISO 8601 time."""
    text = text.strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@page
async def event_history(ctx: Page) -> Response:
    attr = ctx.arg("attr")
    value = ctx.arg("value").strip()
    start, end = _moment(ctx.arg("start")), _moment(ctx.arg("end"))
    params: dict[str, Any] = {"MaxResults": PAGE_SIZE}
    if attr in ATTRIBUTE_KEYS and value:
        params["LookupAttributes"] = [{"AttributeKey": attr, "AttributeValue": value}]
    if start is not None:
        params["StartTime"] = start
    if end is not None:
        params["EndTime"] = end
    token = ctx.arg("token")
    if token:
        params["NextToken"] = token
    out, failure = await ctx.attempt("cloudtrail", "LookupEvents", params)
    rows = []
    for item in (out or {}).get("Events") or []:
        try:
            record = json.loads(item.get("CloudTrailEvent") or "{}")
        except ValueError:
            record = {}
        rows.append({"item": item, "record": record,
                     "error": record.get("errorCode") or record.get("errorMessage") or ""})
    base = {"attr": attr, "value": value, "start": ctx.arg("start"), "end": ctx.arg("end")}
    next_token = (out or {}).get("NextToken")
    next_link = "?" + urlencode({**base, "token": next_token}) if next_token else ""
    return ctx.render("events.html", title="Event history", rows=rows, attrs=ATTRIBUTE_KEYS,
                      form=base, failure=failure, next_link=next_link,
                      first_link="?" + urlencode(base) if token else "")


@page
async def event_detail(ctx: Page) -> Response:
    event_id = ctx.request.path_params["event_id"]
    out = await ctx.call("cloudtrail", "LookupEvents", {
        "LookupAttributes": [{"AttributeKey": "EventId", "AttributeValue": event_id}],
        "MaxResults": 1,
    })
    events = out.get("Events") or []
    record: dict[str, Any] | None = None
    if events:
        try:
            record = json.loads(events[0].get("CloudTrailEvent") or "{}")
        except ValueError:
            record = None
    status = 200 if record is not None else 404
    return ctx.render("event.html", status, title=f"Event {event_id}", event_id=event_id,
                      item=events[0] if events else None, record=record)
