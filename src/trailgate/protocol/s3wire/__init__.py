"""S3's rest-xml wire, driven by botocore's s3 model (re-exported by ``protocol.restxml``).

- :mod:`.dispatch` — request -> (operation, bucket, key);
- :mod:`.parse` — request -> params (:mod:`.xmlread` for XML payloads);
- :mod:`.serialize` — result -> response;
- :mod:`.errors` — S3's error codes and the ``<Error>`` document;
- :mod:`.plans` — per-operation and per-shape plans, compiled once.
"""
