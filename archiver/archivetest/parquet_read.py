# Reads the Parquet files of an archive with pyarrow and with DuckDB, two readers independent
# of the Go writer, and prints one JSON document: per file what each reader sees, and the
# counts of the queries asked for.
#
# usage: parquet_read.py ROOT REQUEST_JSON
#   ROOT          directory holding the files (names relative to it)
#   REQUEST_JSON  {"files": [relative names], "queries": {"name": "SQL with {glob}"}}
import json
import sys

import duckdb
import pyarrow.parquet as pq


def by_type(values):
    out = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def main():
    root, req = sys.argv[1], json.loads(sys.argv[2])
    con = duckdb.connect()
    files = {}
    for name in req["files"]:
        path = root + "/" + name
        f = pq.ParquetFile(path)
        md = f.metadata
        table = f.read(columns=["type", "ts", "endts"])
        stats = True
        codecs = set()
        for i in range(md.num_row_groups):
            rg = md.row_group(i)
            for j in range(rg.num_columns):
                col = rg.column(j)
                codecs.add(col.compression)
                if not col.is_stats_set or col.statistics is None or not col.statistics.has_null_count:
                    stats = False
        kv = {k.decode(): v.decode() for k, v in (md.metadata or {}).items()}
        rows = con.execute(
            "select type, count(*) from read_parquet(?) group by type", [path]
        ).fetchall()
        files[name] = {
            "pyarrow": {
                "rows_by_type": by_type(table.column("type").to_pylist()),
                "row_groups": md.num_row_groups,
                "columns": f.schema_arrow.names,
                "ts_type": str(f.schema_arrow.field("ts").type),
                "endts_type": str(f.schema_arrow.field("endts").type),
                "statistics": stats,
                "codecs": sorted(codecs),
                "metadata": kv,
            },
            "duckdb": {"rows_by_type": {t: n for t, n in rows}},
        }
    glob = root + "/" + req.get("glob", "**/*.parquet")
    queries = {}
    for qname, sql in (req.get("queries") or {}).items():
        queries[qname] = con.execute(sql.replace("{glob}", glob)).fetchall()[0][0]
    json.dump({"files": files, "queries": queries}, sys.stdout, default=str)


main()
