"""Reads an expbuf Parquet dataset with real clients, for __test__/parquet.test.ts.

  parquet_read.py read DIR FIELDS_JSON   pyarrow.dataset (Hive partitioning), DuckDB,
                                         pandas and Dask: prints one JSON object (rows
                                         sorted by id, step; each field's values as
                                         base64 of their bytes)
  parquet_read.py tamper FILE OP         rewrites FILE with pyarrow, keeping its
                                         key-value metadata: OP is drop-reward,
                                         add-extra or reward-float32
"""
import base64
import json
import sys

import dask
import dask.dataframe as dd
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()


def read(root, fields):
    dataset = ds.dataset(root, format="parquet", partitioning="hive")
    table = dataset.to_table().sort_by([("id", "ascending"), ("step", "ascending")])
    out = {
        "pyarrow": pa.__version__,
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "dask": dask.__version__,
        "rows": table.num_rows,
        "columns": table.column_names,
        "types": {f.name: str(f.type) for f in table.schema},
        "files": [],
        "fields": {},
    }
    for name in ["id", "kind", "step", "time", "terminated", "vehicle", "driver"]:
        out[name] = table[name].to_pylist()
    for f in fields:
        col = table[f["name"]].combine_chunks()
        values = col.flatten() if f["shape"] else col
        out["fields"][f["name"]] = b64(values.to_numpy(zero_copy_only=False).astype(f["dtype"]))
    state = next(f for f in fields if f["name"] == "state")
    out["final_state"] = [
        None if v is None else b64(np.asarray(v, dtype=state["dtype"])) for v in table["final_state"].to_pylist()
    ]
    for path in sorted(dataset.files):
        meta = pq.ParquetFile(path).metadata
        out["files"].append(
            {
                "path": path[len(root) + 1 :],
                "rows": meta.num_rows,
                "row_groups": meta.num_row_groups,
                "expbuf": json.loads(meta.metadata[b"expbuf"]),
                "schema_metadata": sorted(k.decode() for k in pq.read_schema(path).metadata),
                "codec": meta.row_group(0).column(0).compression if meta.num_row_groups else None,
            }
        )
    sql = f"SELECT vehicle, count(*) AS n FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true) GROUP BY vehicle ORDER BY vehicle"
    out["duckdb_counts"] = {str(v): n for v, n in duckdb.sql(sql).fetchall()}
    out["final_states"] = int(pc.sum(pc.is_valid(table["final_state"])).as_py() or 0)
    out["pandas"] = read_pandas(root, fields)
    # Dask as its users call it: lazily, per file, computed at the end.
    frame = dd.read_parquet(root)
    out["dask"] = {
        "rows": int(frame.shape[0].compute()),
        "vehicle_counts": {str(v): int(n) for v, n in frame.groupby("vehicle", observed=True).size().compute().items()},
        "reward_sum": float(frame["reward"].sum().compute()),
    }
    return out


def read_pandas(root, fields):
    """pandas.read_parquet of the directory (through pyarrow, partitions as categories)."""
    df = pd.read_parquet(root).sort_values(["id", "step"], kind="stable")
    out = {
        "rows": len(df),
        "vehicle_counts": {str(v): int(n) for v, n in df.groupby("vehicle", observed=True).size().items()},
        "fields": {},
    }
    for f in fields:
        col = df[f["name"]].to_numpy()
        # A shaped field is a column of arrays; np.stack makes it [rows, prod(shape)].
        values = np.stack(col) if f["shape"] else col
        out["fields"][f["name"]] = b64(values.astype(f["dtype"]))
    return out


def tamper(path, op):
    table = pq.read_table(path, partitioning=None)
    if op == "drop-reward":
        table = table.drop_columns(["reward"])
    elif op == "add-extra":
        table = table.append_column("extra", pa.array(["x"] * table.num_rows))
    elif op == "reward-float32":
        i = table.schema.get_field_index("reward")
        table = table.set_column(i, "reward", pc.cast(table["reward"], pa.float32()))
    else:
        raise SystemExit(f"unknown op {op}")
    # The table keeps the file's metadata (expbuf's key among it).
    pq.write_table(table, path)


if __name__ == "__main__":
    if sys.argv[1] == "read":
        print(json.dumps(read(sys.argv[2], json.loads(sys.argv[3]))))
    else:
        tamper(sys.argv[2], sys.argv[3])
