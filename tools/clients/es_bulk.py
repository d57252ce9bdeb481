#!/usr/bin/env python3
"""Sends documents to Palisade's `_bulk` endpoint with the official `elasticsearch` client's
bulk helper, as a log shipper would.

    es_bulk.py URL TOKEN INDEX COUNT

Prints one JSON line: {"ok": N, "errors": [...]}. Document i has user.name "user<i>",
source.ip 192.0.2.<i % 256>, a nested object and a list, so the test can check field values.
"""

import json
import sys

from elasticsearch import Elasticsearch, helpers


def main() -> int:
    url, token, index, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    client = Elasticsearch(url, bearer_auth=token, request_timeout=60)
    info = client.info()
    assert info["version"]["number"].startswith("8."), info
    actions = (
        {
            "_index": index,
            "_id": f"doc-{i}",
            "_source": {
                "@timestamp": f"2026-11-30T12:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "user": {"name": f"user{i}"},
                "source": {"ip": f"192.0.2.{i % 256}", "port": 1000 + i},
                "event": {"action": "bulk-test", "category": ["network", "web"]},
                "labels": {"batch": str(i // 100)},
            },
        }
        for i in range(count)
    )
    ok, errors = helpers.bulk(client, actions, chunk_size=250, raise_on_error=False)
    print(json.dumps({"ok": ok, "errors": errors}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
