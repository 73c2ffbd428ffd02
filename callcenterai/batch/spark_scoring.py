"""Scoring a CSV or Parquet file of tickets on Apache Spark with ``mlflow.pyfunc.spark_udf``.

The model is resolved on the driver by the project's one loading road
(``callcenterai.registry.loading``): a folder is checked, a ``models:/`` URI is
downloaded and compared with its registered digest; nothing is unpickled and no
code comes from the registry. Handing the registry URI to ``spark_udf`` itself
would run the copy of ``models/pyfunc.py`` logged with the model, so instead the
checked folder is wrapped, on the driver, in a pyfunc model saved from this
package's own ``batch_pyfunc.py``; ``spark_udf`` ships that to the executors.
The UDF answers one struct per ticket (a non-struct result type would keep only
the leftmost column), expanded into ``predict.py``'s columns in its order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from callcenterai.batch.predictions import BLANK_TEXT, prediction_columns
from callcenterai.batch.spark_io import (
    check_input_file,
    first_line,
    in_input_order,
    read_tickets,
    write_predictions,
)
from callcenterai.data import DataValidationError
from callcenterai.models.folder import MODEL_DIR_ARTIFACT
from callcenterai.models.loading import LoadedModel
from callcenterai.registry.loading import is_registry_uri, load_model

log = logging.getLogger("callcenterai.batch")
BATCH_MODEL_CODE = Path(__file__).resolve().with_name("batch_pyfunc.py")
LOG4J_CONFIG = Path(__file__).resolve().with_name("log4j2.properties")
TEXT_COLUMNS = ("label", "refused")  # the others are numbers


@dataclass(frozen=True)
class SparkRun:
    model: LoadedModel
    partitions: int
    seconds: float  # the scoring job, from its start to the output in place


def spark_session(
    master: str | None = None,
    app_name: str = "callcenterai-batch-scoring",
    config: dict | None = None,
    log_level: str = "FATAL",
):
    """A SparkSession on ``master`` (None: spark-submit's, else ``local[*]``), its web UI off unless
    ``config`` turns it on, its JVM logging at ``log_level`` once started (errors only before)."""
    from pyspark.sql import SparkSession

    # Local executors start Python workers: this interpreter, where callcenterai is installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # The tests compare this engine's answers with predict.py's, on the pandas pinned here.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    logging.getLogger("py4j").setLevel(logging.WARNING)
    defaults = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG4J_CONFIG.as_uri()}",
    }
    builder = SparkSession.builder.appName(app_name)
    for key, value in {**defaults, **(config or {})}.items():
        builder = builder.config(key, value)
    if master:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(log_level)
    return spark


def checked_model(source: str, workdir: Path) -> tuple[LoadedModel, Path]:
    """The model and the checked folder it was loaded from (a registry version is kept in ``workdir``)."""
    if is_registry_uri(source):
        folder = workdir / "model"
        return load_model(source, cache_dir=folder), folder
    return load_model(source), Path(source)


def save_batch_model(folder: Path, workdir: Path) -> Path:
    """The pyfunc model ``spark_udf`` loads: this package's wrapper code around ``folder``."""
    import mlflow.pyfunc

    path = workdir / "pyfunc"
    with quiet("mlflow.pyfunc"):  # no signature on purpose: the UDF's result type says it all
        mlflow.pyfunc.save_model(
            path=str(path),
            python_model=str(BATCH_MODEL_CODE),
            artifacts={MODEL_DIR_ARTIFACT: str(folder)},
            pip_requirements=["callcenterai"],
        )
    return path


def result_type(labels):
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    return StructType(
        [
            StructField(name, StringType() if name in TEXT_COLUMNS else DoubleType())
            for name in prediction_columns(labels)
        ]
    )


def scored_frame(spark, tickets, text_column: str, model_path: Path, labels, partitions: int):
    """``predict.py``'s columns for every row of ``tickets``, in order; a refused row's numbers are null."""
    import mlflow.pyfunc
    from pyspark.sql import functions as F

    struct = result_type(labels)
    # env_manager "local" on purpose: the executors run this environment's callcenterai; MLflow's
    # advice to rebuild one with conda would install the model's environment from its requirements.
    with quiet("mlflow.pyfunc", "mlflow.models.flavor_backend_registry"):
        udf = mlflow.pyfunc.spark_udf(spark, str(model_path), result_type=struct, env_manager="local")
    texts = in_input_order(tickets, partitions)
    expanded = texts.select(udf(F.col(f"`{text_column}`")).alias("prediction")).select("prediction.*")
    return expanded.select(*(text_or_number(field.name) for field in struct.fields))


@contextlib.contextmanager
def quiet(*loggers: str) -> Iterator[None]:
    """Only errors from ``loggers`` while the body runs."""
    levels = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def text_or_number(name: str):
    """A column of the expanded struct; a number the UDF left NaN (a refused row) becomes null, which
    both writers write as predict.py does: an empty CSV cell, a Parquet null."""
    from pyspark.sql import functions as F

    column = F.col(f"`{name}`")
    return column if name in TEXT_COLUMNS else F.when(~F.isnan(column), column).alias(name)


def score_file(
    source: str,
    input_path: Path,
    output: Path,
    text_column: str,
    session: Callable[[], object],
    min_partitions: int | None = None,
) -> SparkRun:
    """Score ``input_path`` (CSV or Parquet) into ``output`` with the model ``source`` names, over at
    least ``min_partitions`` partitions (None: the cluster's default parallelism)."""
    check_input_file(input_path)  # before the model download and the JVM start
    with tempfile.TemporaryDirectory(prefix="callcenterai-spark-") as tmp:
        model, folder = checked_model(source, Path(tmp))
        model_path = save_batch_model(folder, Path(tmp))
        spark = session()
        tickets = read_tickets(spark, input_path, text_column)
        labels = model.predictor.labels
        partitions = min_partitions or spark.sparkContext.defaultParallelism
        scored = scored_frame(spark, tickets, text_column, model_path, labels, partitions)
        started = time.perf_counter()
        try:
            write_predictions(scored, output, prediction_columns(labels))
        except Exception as exc:  # a failed Spark job: py4j's and PySpark's errors
            raise job_error(exc, input_path, text_column) from None
        seconds = time.perf_counter() - started
    return SparkRun(model=model, partitions=scored.rdd.getNumPartitions(), seconds=seconds)


def job_error(exc: BaseException, input_path: Path, text_column: str) -> DataValidationError:
    if BLANK_TEXT in str(exc):
        return DataValidationError(f"{input_path}: blank {text_column} in at least one row")
    return DataValidationError(f"{input_path}: Spark could not score it ({first_line(exc)})")
