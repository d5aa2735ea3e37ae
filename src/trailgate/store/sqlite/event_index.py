"""The event-history index rows of stored events, computed by SQLite itself.

:func:`trailgate.services.cloudtrail.events.index_rows` says which rows a record gets; this is
the same rule written in SQL over the stored JSON, so that indexing a batch of events runs in
SQLite's C code, without the GIL (the server's event loop thread meanwhile serves calls on
another core) and without decoding the records in Python.  The two are kept equal by
``tests/unit/services/test_cloudtrail_events.py`` (every record of its history fixture).

Per management event (``is_data_event`` false): the unfiltered row, EventName, ReadOnly,
EventSource, Username, AccessKeyId, and a ResourceType and a ResourceName row per resource
(``_lookup_resources``), leaving out empty values; ``region`` is ``record_region`` and the time
is the eventTime in epoch seconds (0 when it does not parse).
"""

from __future__ import annotations

from typing import Final

CREATE_PAIRS: Final = """
CREATE TEMP TABLE IF NOT EXISTS index_pairs (
    seq INTEGER, account TEXT, region TEXT, attr TEXT, value TEXT, at INTEGER
)
"""

# (seq, account, region, attr, value, at) of every index row of events lo < seq <= hi.
FILL_PAIRS: Final = """
INSERT INTO temp.index_pairs (seq, account, region, attr, value, at)
WITH raw AS (
    -- One parse of each record: the fields the rules read, as a small JSON array.
    SELECT seq, account, data,
           json_extract(data, '$.awsRegion', '$.eventTime', '$.eventSource', '$.eventName',
                        '$.readOnly', '$.userIdentity', '$.requestParameters',
                        '$.responseElements', '$.resources', '$.eventCategory',
                        '$.managementEvent') AS x
    FROM events
    WHERE seq > :lo AND seq <= :hi
),
ev0 AS (
    SELECT seq, account, x -> '$[5]' AS ident,
           CASE WHEN json_type(x, '$[0]') = 'text' AND x ->> '$[0]' <> ''
                THEN x ->> '$[0]' ELSE 'us-east-1' END AS region,
           COALESCE(CAST(strftime('%s', x ->> '$[1]') AS INTEGER), 0) AS at,
           x -> '$[6]' AS params,
           x -> '$[7]' AS response,
           x -> '$[8]' AS res,
           x ->> '$[2]' AS source,
           x ->> '$[3]' AS name,
           json_type(x, '$[4]') AS read_only
    FROM raw
    WHERE NOT (CASE WHEN json_type(x, '$[9]') <> 'null' THEN (x ->> '$[9]') IS 'Data'
                    WHEN json_type(data, '$.eventCategory') IS NOT NULL THEN 0
                    ELSE json_type(x, '$[10]') IS 'false' END)
),
ev1 AS (
    SELECT ev0.*, ident ->> '$.type' AS kind,
           CASE WHEN json_type(ident, '$.arn') = 'text' THEN ident ->> '$.arn' END AS arn
    FROM ev0
),
ev AS (
    SELECT ev1.*,
           CASE WHEN instr(arn, '/') > 0
                THEN substr(arn, length(rtrim(arn, replace(arn, '/', ''))) + 1) END
               AS after_slash
    FROM ev1
),
resources (seq, account, region, at, kind, name) AS (
    SELECT ev.seq, ev.account, ev.region, ev.at, r.value ->> '$.type',
           CASE WHEN r.value ->> '$.type' = 'AWS::S3::Bucket'
                 AND substr(r.value ->> '$.ARN', 1, 13) = 'arn:aws:s3:::'
                THEN substr(r.value ->> '$.ARN', 14) ELSE r.value ->> '$.ARN' END
    FROM ev, json_each(ev.res) AS r
    WHERE ev.res IS NOT NULL
      AND json_type(r.value, '$.type') = 'text' AND json_type(r.value, '$.ARN') = 'text'
      AND r.value ->> '$.type' <> 'AWS::S3::Object'
    UNION ALL
    -- IAM entities named by the request (one pass over its parameters)
    SELECT ev.seq, ev.account, ev.region, ev.at,
           CASE p.key
               WHEN 'userName' THEN 'AWS::IAM::User'
               WHEN 'roleName' THEN 'AWS::IAM::Role'
               WHEN 'groupName' THEN 'AWS::IAM::Group'
               WHEN 'policyArn' THEN 'AWS::IAM::Policy'
               WHEN 'instanceProfileName' THEN 'AWS::IAM::InstanceProfile'
               ELSE 'AWS::IAM::AccessKey' END,
           p.value
    FROM ev, json_each(ev.params) AS p
    WHERE ev.source = 'iam.amazonaws.com' AND json_type(ev.params) = 'object'
      AND p.key IN ('userName', 'roleName', 'groupName', 'policyArn', 'instanceProfileName',
                    'accessKeyId')
      AND p.type = 'text' AND p.value <> ''
    UNION ALL
    SELECT ev.seq, ev.account, ev.region, ev.at, 'AWS::IAM::AccessKey',
           ev.response ->> '$.accessKey.accessKeyId'
    FROM ev
    WHERE ev.source = 'iam.amazonaws.com'
      AND json_type(ev.response, '$.accessKey.accessKeyId') = 'text'
    UNION ALL
    SELECT ev.seq, ev.account, ev.region, ev.at, 'AWS::IAM::Policy', ev.response ->> '$.policy.arn'
    FROM ev
    WHERE ev.source = 'iam.amazonaws.com' AND json_type(ev.response, '$.policy.arn') = 'text'
    UNION ALL
    SELECT ev.seq, ev.account, ev.region, ev.at, 'AWS::IAM::AccessKey',
           ev.response ->> '$.credentials.accessKeyId'
    FROM ev
    WHERE ev.source = 'sts.amazonaws.com'
      AND json_type(ev.response, '$.credentials.accessKeyId') = 'text'
    UNION ALL
    SELECT ev.seq, ev.account, ev.region, ev.at, 'AWS::STS::AssumedRole',
           ev.params ->> '$.roleSessionName'
    FROM ev
    WHERE ev.source = 'sts.amazonaws.com'
      AND json_type(ev.response, '$.assumedRoleUser') IN ('object', 'array', 'text', 'integer',
                                                            'real', 'true')
      AND NOT (ev.response -> '$.assumedRoleUser') IN ('{}', '[]', '""', '0', '0.0')
      AND json_type(ev.params) = 'object' AND json_type(ev.params, '$.roleSessionName') = 'text'
    UNION ALL
    SELECT ev.seq, ev.account, ev.region, ev.at, 'AWS::CloudTrail::Trail', p.value
    FROM ev, json_each(ev.params) AS p
    WHERE ev.source = 'cloudtrail.amazonaws.com' AND json_type(ev.params) = 'object'
      AND p.key IN ('name', 'trailName') AND p.type = 'text'
)
SELECT ev.seq, ev.account, ev.region, a.column1,
       CASE a.column1
           WHEN '' THEN ''
           WHEN 'EventName' THEN ev.name
           WHEN 'ReadOnly' THEN CASE WHEN ev.read_only = 'true' THEN 'true' ELSE 'false' END
           WHEN 'EventSource' THEN ev.source
           WHEN 'Username' THEN
               CASE ev.kind
                   WHEN 'Root' THEN 'root'
                   WHEN 'IAMUser' THEN
                       CASE WHEN json_type(ev.ident, '$.userName') = 'text'
                            THEN ev.ident ->> '$.userName' END
                   WHEN 'AssumedRole' THEN ev.after_slash
                   WHEN 'FederatedUser' THEN ev.after_slash
                   WHEN 'AWSService' THEN
                       CASE WHEN json_type(ev.ident, '$.invokedBy') = 'text'
                            THEN ev.ident ->> '$.invokedBy' END
               END
           ELSE CASE WHEN json_type(ev.ident, '$.accessKeyId') = 'text'
                     THEN ev.ident ->> '$.accessKeyId' END
       END AS value,
       ev.at
FROM ev, (VALUES (''), ('EventName'), ('ReadOnly'), ('EventSource'), ('Username'),
                 ('AccessKeyId')) AS a
WHERE a.column1 = '' OR (value IS NOT NULL AND value <> '')
UNION ALL
SELECT r.seq, r.account, r.region, a.column1,
       CASE a.column1 WHEN 'ResourceType' THEN r.kind ELSE r.name END AS value, r.at
FROM resources AS r, (VALUES ('ResourceType'), ('ResourceName')) AS a
WHERE value IS NOT NULL AND value <> ''
"""

ADD_KEYS: Final = """
INSERT OR IGNORE INTO event_keys (account, region, attr, value)
SELECT DISTINCT account, region, attr, CAST(value AS TEXT) FROM temp.index_pairs
"""

ADD_POSTINGS: Final = """
INSERT OR IGNORE INTO event_postings (key, event_time, seq)
SELECT k.id, p.at, p.seq
FROM temp.index_pairs AS p
JOIN event_keys AS k
  ON k.account = p.account AND k.region = p.region AND k.attr = p.attr
 AND k.value = CAST(p.value AS TEXT)
ORDER BY 1, 2, 3
"""

CLEAR_PAIRS: Final = "DELETE FROM temp.index_pairs"
