"""Checks that SysFlow files are self-contained, reading them with fastavro (an implementation
independent of ours): every entity a record references is written before it in the same file.

  python3 selfcontained.py [--json] FILE_OR_DIR...

References checked: a Process's parent (poid, unless null or hpid 0) and container; a File's
container; an event's or flow's process and files. Directories are walked for *.sf files.
Prints one line per file with a problem (or one JSON object per file with --json) and a
summary; exits 1 if any reference is unresolved, 2 if a file cannot be read.
"""
import json
import os
import sys

import fastavro

PROCESS = "sysflow.entity.Process"
FILE = "sysflow.entity.File"
CONTAINER = "sysflow.entity.Container"
HEADER = "sysflow.entity.SFHeader"


def oid(o):
    return (o["hpid"], o["createTS"])


def check(path):
    procs, files, conts = set(), set(), set()
    missing = {"process": 0, "parent": 0, "file": 0, "container": 0}
    examples = []
    records = 0

    def miss(kind, i, what):
        missing[kind] += 1
        if len(examples) < 5:
            examples.append("record %d: %s %s not written before" % (i, kind, what))

    with open(path, "rb") as f:
        reader = fastavro.reader(f, return_record_name=True, return_record_name_override=True)
        for i, datum in enumerate(reader):
            records += 1
            name, rec = datum["rec"]
            if name == HEADER:
                continue
            if name == CONTAINER:
                conts.add(rec["id"])
                continue
            if name == PROCESS:
                p = rec.get("poid")
                if p is not None and p["hpid"] != 0 and oid(p) not in procs:
                    miss("parent", i, "%d/%d of %d/%d" % (p["hpid"], p["createTS"], rec["oid"]["hpid"], rec["oid"]["createTS"]))
                c = rec.get("containerId")
                if c is not None and c not in conts:
                    miss("container", i, c)
                procs.add(oid(rec["oid"]))
                continue
            if name == FILE:
                c = rec.get("containerId")
                if c is not None and c not in conts:
                    miss("container", i, c)
                files.add(bytes(rec["oid"]))
                continue
            po = rec.get("procOID")
            if po is not None and oid(po) not in procs:
                miss("process", i, "%d/%d" % oid(po))
            for k in ("fileOID", "newFileOID"):
                fo = rec.get(k)
                if fo is not None and bytes(fo) not in files:
                    miss("file", i, bytes(fo).hex())
    return {"file": path, "records": records, "missing": missing, "examples": examples}


def paths(args):
    for a in args:
        if os.path.isdir(a):
            for root, _, names in sorted(os.walk(a)):
                for n in sorted(names):
                    if n.endswith(".sf"):
                        yield os.path.join(root, n)
        else:
            yield a


def main(argv):
    as_json = "--json" in argv
    args = [a for a in argv if a != "--json"]
    total, nfiles, nrecords, bad = 0, 0, 0, False
    for p in paths(args):
        try:
            res = check(p)
        except Exception as e:  # a file fastavro cannot read
            print("%s: unreadable: %s" % (p, e), file=sys.stderr)
            bad = True
            continue
        nfiles += 1
        nrecords += res["records"]
        n = sum(res["missing"].values())
        total += n
        if as_json:
            print(json.dumps(res, sort_keys=True))
        elif n:
            print("%s: %d unresolved references %s; %s" % (p, n, res["missing"], "; ".join(res["examples"])))
    print("self-contained check: %d files, %d records, %d unresolved references" % (nfiles, nrecords, total),
          file=sys.stderr if as_json else sys.stdout)
    if bad:
        return 2
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
