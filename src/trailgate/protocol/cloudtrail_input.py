"""CloudTrail's own exceptions for request values outside the model's constraints.

CloudTrail does not answer the generic ``ValidationException`` for these members: its model
documents a dedicated exception for each (``InvalidEventCategoryException`` for an
``EventCategory`` that is not valid, ``InvalidInsightSelectorsException`` for an
``InsightType`` that is not valid, ``InvalidEventSelectorsException`` for a ``ReadWriteType``
such as ``read-only``, ``InvalidLookupAttributesException`` for a lookup attribute that is not
valid, ``InvalidMaxResultsException`` for a limit out of range).  A constraint failure under one
of these members is answered with that exception; anything else keeps ``ValidationException``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from .errors import ReadInputError

#: First segment of the failing member's path -> the exception CloudTrail answers.
_OWN_EXCEPTIONS: Final[dict[str, str]] = {
    "lookupAttributes": "InvalidLookupAttributesException",
    "eventCategory": "InvalidEventCategoryException",
    "maxResults": "InvalidMaxResultsException",
    "eventSelectors": "InvalidEventSelectorsException",
    "advancedEventSelectors": "InvalidEventSelectorsException",
    "insightSelectors": "InvalidInsightSelectorsException",
}

_PATH = re.compile(r" at '([A-Za-z]+)[.']")


def cloudtrail_input_error(problems: list[str], params: dict[str, Any]) -> ReadInputError | None:
    """The CloudTrail exception for the first constraint failure, if CloudTrail has its own for
    that member (None: the generic ``ValidationException`` applies); it carries ``params``."""
    for problem in problems:
        found = _PATH.search(problem)
        code = _OWN_EXCEPTIONS.get(found.group(1)) if found else None
        if code is None:
            continue
        if code == "InvalidMaxResultsException":
            # UNSURE: the message wording
            return ReadInputError(code, "The maximum number of results is not valid.", 400,
                                  params=params)
        # UNSURE: AWS's wording; the failure is named as the generic validation would name it
        return ReadInputError(code, problem, 400, params=params)
    return None
