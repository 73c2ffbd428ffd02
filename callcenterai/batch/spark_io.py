"""Reading tickets into Spark and writing its predictions, all or nothing.

CSV is read as RFC 4180 with quoted line breaks allowed (as ``scripts/predict.py``
reads it), so a file is one Spark partition; ``in_input_order`` spreads it over
the cluster's cores and keeps each row's place. CSV predictions are written by
Spark as part files in a staging folder and joined in order on the driver into
one file under the header, as ``predict.py`` writes it; Parquet predictions are
Spark's own folder, renamed into place once complete.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from callcenterai.data import DataValidationError
from callcenterai.fileio import staged_directory, staged_files

ROW = "__callcenterai_row"
CSV_OPTIONS = {"header": "true", "multiLine": "true", "escape": '"', "encoding": "UTF-8", "mode": "FAILFAST"}
# Spark writes empty strings as "" and trims cells unless told; predict.py (pandas) does neither.
CSV_WRITE_OPTIONS = {
    "header": "false",
    "escape": '"',
    "emptyValue": "",
    "nullValue": "",
    "ignoreLeadingWhiteSpace": "false",
    "ignoreTrailingWhiteSpace": "false",
}


def is_parquet(path: Path) -> bool:
    path = Path(path)
    return path.suffix == ".parquet" or (path.is_dir() and any(path.glob("*.parquet")))


def check_input_file(path: Path) -> None:
    """The checks that need no Spark: the file is there and holds something."""
    path = Path(path)
    if not path.exists():
        raise DataValidationError(f"{path}: file not found")
    if path.is_file() and not has_content(path):
        raise DataValidationError(f"{path}: file is empty")


def has_content(path: Path, chunk_size: int = 1 << 16) -> bool:
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            if chunk.strip():
                return True
    return False


def read_tickets(spark: SparkSession, path: Path, text_column: str) -> DataFrame:
    """The input's text column, as strings; DataValidationError naming the problem."""
    check_input_file(path)
    kind = "Parquet" if is_parquet(path) else "CSV"
    try:
        reader = spark.read if kind == "Parquet" else spark.read.options(**CSV_OPTIONS)
        frame = reader.format(kind.lower()).load(str(Path(path).resolve()))
    except Exception as exc:  # Spark's AnalysisException, or a Java error through py4j
        raise DataValidationError(f"{path}: not a readable {kind} file ({first_line(exc)})") from None
    if text_column not in frame.columns:
        found = ", ".join(frame.columns) or "none"
        raise DataValidationError(f"{path}: missing column {text_column!r} (columns found: {found})")
    return frame.select(F.col(f"`{text_column}`").cast("string").alias(text_column))


def in_input_order(frame: DataFrame, partitions: int) -> DataFrame:
    """``frame`` over at least ``partitions`` partitions, each a run of consecutive input rows in order,
    so that part files written in partition order hold the rows in input order."""
    if frame.rdd.getNumPartitions() >= partitions:
        return frame
    numbered = frame.withColumn(ROW, F.monotonically_increasing_id())
    return numbered.repartitionByRange(partitions, ROW).sortWithinPartitions(ROW).drop(ROW)


def write_predictions(scored: DataFrame, output: Path, columns: list[str]) -> None:
    """Parquet for a ``.parquet`` output, else one CSV file; nothing at ``output`` unless all was written."""
    output = Path(output).resolve()
    if output.suffix == ".parquet":
        with staged_directory(output) as staging:
            scored.write.mode("overwrite").parquet(str(staging))
        return
    with (
        staged_files(output) as (staged,),
        tempfile.TemporaryDirectory(prefix=f".{output.name}.parts-", dir=output.parent) as parts,
    ):
        scored.write.mode("overwrite").options(**CSV_WRITE_OPTIONS).csv(str(Path(parts) / "csv"))
        join_csv_parts(sorted((Path(parts) / "csv").glob("part-*")), columns, staged)


def join_csv_parts(parts: list[Path], columns: list[str], dest: Path) -> None:
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(columns)
    with open(dest, "wb") as out:
        out.write(header.getvalue().encode("utf-8"))
        for part in parts:
            with open(part, "rb") as handle:
                shutil.copyfileobj(handle, out)


def first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:300] if lines else type(exc).__name__
