"""Reads a SysFlow file with fastavro (an independent Avro implementation) and prints one JSON
object per record: {"type": <full record name>, "rec": <fields>}, bytes/fixed as hex."""
import json
import sys

import fastavro


def plain(v):
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, tuple):  # (record name, value) of a union branch
        return plain(v[1])
    return v


with open(sys.argv[1], "rb") as f:
    reader = fastavro.reader(f, return_record_name=True, return_record_name_override=True)
    print(json.dumps({"codec": reader.codec, "schema_name": reader.writer_schema["name"]}))
    for datum in reader:
        name, rec = datum["rec"]
        print(json.dumps({"type": name, "rec": plain(rec)}, sort_keys=True))
