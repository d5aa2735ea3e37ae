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
resources (seq, kind, name) AS (
    SELECT ev.seq, r.value ->> '$.type',
           CASE WHEN r.value ->> '$.type' = 'AWS::S3::Bucket'
                 AND substr(r.value ->> '$.ARN', 1, 13) = 'arn:aws:s3:::'
                THEN substr(r.value ->> '$.ARN', 14) ELSE r.value ->> '$.ARN' END
    FROM ev, json_each(ev.res) AS r
    WHERE json_type(r.value, '$.type') = 'text' AND json_type(r.value, '$.ARN') = 'text'
      AND r.value ->> '$.type' <> 'AWS::S3::Object'
    UNION ALL
    SELECT ev.seq, n.kind, ev.params ->> n.path
    FROM ev, (
        SELECT '$.userName' AS path, 'AWS::IAM::User' AS kind
        UNION ALL SELECT '$.roleName', 'AWS::IAM::Role'
        UNION ALL SELECT '$.groupName', 'AWS::IAM::Group'
        UNION ALL SELECT '$.policyArn', 'AWS::IAM::Policy'
        UNION ALL SELECT '$.instanceProfileName', 'AWS::IAM::InstanceProfile'
        UNION ALL SELECT '$.accessKeyId', 'AWS::IAM::AccessKey'
    ) AS n
    WHERE ev.source = 'iam.amazonaws.com' AND json_type(ev.params) = 'object'
      AND json_type(ev.params, n.path) = 'text' AND ev.params ->> n.path <> ''
    UNION ALL
    SELECT ev.seq, 'AWS::IAM::AccessKey', ev.response ->> '$.accessKey.accessKeyId'
    FROM ev
    WHERE ev.source = 'iam.amazonaws.com'
      AND json_type(ev.response, '$.accessKey.accessKeyId') = 'text'
    UNION ALL
    SELECT ev.seq, 'AWS::IAM::Policy', ev.response ->> '$.policy.arn'
    FROM ev
    WHERE ev.source = 'iam.amazonaws.com' AND json_type(ev.response, '$.policy.arn') = 'text'
    UNION ALL
    SELECT ev.seq, 'AWS::IAM::AccessKey', ev.response ->> '$.credentials.accessKeyId'
    FROM ev
    WHERE ev.source = 'sts.amazonaws.com'
      AND json_type(ev.response, '$.credentials.accessKeyId') = 'text'
    UNION ALL
    SELECT ev.seq, 'AWS::STS::AssumedRole', ev.params ->> '$.roleSessionName'
    FROM ev
    WHERE ev.source = 'sts.amazonaws.com'
      AND json_type(ev.response, '$.assumedRoleUser') IN ('object', 'array', 'text', 'integer',
                                                            'real', 'true')
      AND NOT (ev.response -> '$.assumedRoleUser') IN ('{}', '[]', '""', '0', '0.0')
      AND json_type(ev.params) = 'object' AND json_type(ev.params, '$.roleSessionName') = 'text'
    UNION ALL
    SELECT ev.seq, 'AWS::CloudTrail::Trail', ev.params ->> n.path
    FROM ev, (SELECT '$.name' AS path UNION ALL SELECT '$.trailName') AS n
    WHERE ev.source = 'cloudtrail.amazonaws.com' AND json_type(ev.params) = 'object'
      AND json_type(ev.params, n.path) = 'text'
),
pairs (seq, attr, value) AS (
    SELECT seq, '', '' FROM ev
    UNION ALL SELECT seq, 'EventName', name FROM ev
    UNION ALL SELECT seq, 'ReadOnly', CASE WHEN read_only = 'true' THEN 'true' ELSE 'false' END
              FROM ev
    UNION ALL SELECT seq, 'EventSource', source FROM ev
    UNION ALL SELECT seq, 'Username',
                     CASE kind
                         WHEN 'Root' THEN 'root'
                         WHEN 'IAMUser' THEN
                             CASE WHEN json_type(ident, '$.userName') = 'text'
                                  THEN ident ->> '$.userName' END
                         WHEN 'AssumedRole' THEN after_slash
                         WHEN 'FederatedUser' THEN after_slash
                         WHEN 'AWSService' THEN
                             CASE WHEN json_type(ident, '$.invokedBy') = 'text'
                                  THEN ident ->> '$.invokedBy' END
                     END
              FROM ev
    UNION ALL SELECT seq, 'AccessKeyId', ident ->> '$.accessKeyId' FROM ev
              WHERE json_type(ident, '$.accessKeyId') = 'text'
    UNION ALL SELECT seq, 'ResourceType', kind FROM resources
    UNION ALL SELECT seq, 'ResourceName', name FROM resources
)
SELECT pairs.seq, ev.account, ev.region, pairs.attr, pairs.value, ev.at
FROM pairs JOIN ev ON ev.seq = pairs.seq
WHERE pairs.attr = '' OR (pairs.value IS NOT NULL AND pairs.value <> '')
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
