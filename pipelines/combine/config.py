"""The configuration of one Combine Redshift Catalogs run.

A :class:`CombineConfig` holds every parameter that changes the output. It serialises to a
plain dict (:meth:`CombineConfig.to_dict`) that is stored in the manifest's provenance and read
back with :meth:`CombineConfig.from_dict`, so a run can be reproduced from its manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.combine.errors import PipelineError
from pzcat import vocab

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_FLAGS_FILE = DATA_DIR / "flags_translation.yaml"
DEFAULT_FIELDS_FILE = DATA_DIR / "dp1_fields.yaml"

#: Accepted spelling of the type column in a priority list (the reference's name).
TYPE_ALIASES = {"instrument_type_homogenized": "type_homogenized"}


class ExecutorConfig(BaseModel):
    """Where the Dask work runs; nothing else of the run depends on it (same output bytes).

    Attributes
    ----------
    kind : {"local", "processes", "distributed", "slurm"}
        ``local``: threads of the running process (no start-up cost), ``n_workers`` of them;
        ``processes``: a ``distributed.LocalCluster`` of ``n_workers`` worker processes on
        127.0.0.1 that the run starts and stops; ``distributed``: an existing scheduler at
        ``address``; ``slurm``: a ``dask_jobqueue.SLURMCluster`` built with the ``slurm``
        keyword arguments and scaled to ``n_workers`` jobs.
    n_workers : int
    threads_per_worker : int
        ``processes`` and ``slurm`` (its ``cores``).
    memory_limit : str or None
        Memory of each worker, e.g. ``"4GB"`` (``processes``: the nanny's limit, default the
        machine's memory divided by the workers; ``slurm``: the job's ``memory``).
    address : str or None
        ``tcp://host:port`` of the scheduler (``distributed``).
    slurm : dict
        Keyword arguments of ``dask_jobqueue.SLURMCluster`` (queue, account, walltime,
        interface, job_extra_directives, ...).
    allowed_failures : int
        How many times a task whose worker died is retried before the run fails with
        ``worker-lost`` (clusters the run starts; an existing scheduler keeps its own setting).
    connect_timeout : float
        Seconds to reach a scheduler or wait for the first SLURM worker.
    scratch_dir : str or None
        Folder for the run's intermediate files, on a file system every worker sees (default:
        a hidden folder inside the run's output folder). Removed when the run ends.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["local", "processes", "distributed", "slurm"] = "local"
    n_workers: int = Field(default=2, ge=1, le=1024)
    threads_per_worker: int = Field(default=1, ge=1, le=256)
    memory_limit: str | None = None
    address: str | None = None
    slurm: dict[str, Any] = Field(default_factory=dict)
    allowed_failures: int = Field(default=0, ge=0, le=100)
    connect_timeout: float = Field(default=30.0, gt=0)
    scratch_dir: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ExecutorConfig:
        if self.kind == "distributed" and not self.address:
            raise ValueError("executor kind 'distributed' needs an 'address' (tcp://host:port)")
        return self


class CombineConfig(BaseModel):
    """Every parameter of a Combine Redshift Catalogs run.

    Attributes
    ----------
    duplicates : {"no", "mark", "remove"}
        ``no`` stacks the inputs; ``mark`` adds tie_result, group_id and compared_to;
        ``remove`` keeps only tie_result 1 (and 2 when ``keep_hard_ties``).
    keep_hard_ties : bool
        In ``remove`` mode, keep hard ties (tie_result 2) too.
    output_format : {"parquet", "hdf5", "csv", "fits", "hats"}
    crossmatch_radius_arcsec : float
        Two objects closer than this are candidate duplicates.
    n_neighbors : int
        Neighbours looked up per object (the object itself included) in the crossmatch.
    delta_z_threshold : float
        Survivors of the priority columns whose consecutive redshifts differ by at most this are
        one cluster; each cluster keeps its smallest CRD_ID.
    tiebreaking_priority : list of str
        Columns compared in order, higher is better; ``type_homogenized`` uses ``type_priority``.
    type_priority : dict
        Rank of each homogenized type (higher is better).
    cut : int or None
        Keep rows with ``z_flag_homogenized >= cut``.
    flags_file : Path or None
        Translation YAML overriding the shipped one.
    fields_file : Path or None
        Footprint fields YAML overriding the shipped DP1 fields.
    footprint_flag : bool
        Add ``is_in_DP1_fields``.
    executor : ExecutorConfig
    partition_rows : int
        Target rows per partition (input batches and neighbour-search partitions).
    neighbor_partition_rows : int or None
        Target objects per neighbour-search partition (HEALPix pixel ranges with margins), the
        memory of one duplicates task: about 300 bytes per object. Default ``4 *
        partition_rows``. The output does not depend on it.
    hats_pixel_rows : int
        HATS output: the most rows of one HATS pixel (``hats.pixel_math.generate_alignment``'s
        threshold over order-8 counts; orders 0 to 8). The pixels depend on it and on the
        output rows only, never on the pieces, workers or executor.
    output_layout : {"file", "dataset"}
        Parquet output: ``file`` (default) one file ``<name>.parquet``; ``dataset`` a folder
        ``<name>.parquet/`` of files ``part-<k>.parquet`` written by the workers, file k holding
        the output rows ``k * dataset_file_rows`` up to ``(k + 1) * dataset_file_rows`` (CRD_ID
        order), so the files do not depend on the pieces, workers or executor. Runs of
        :func:`pipelines.combine.runner.run_combine` and ``python -m pipelines.combine`` only:
        a catalog product is one file or a HATS folder (use ``hats`` to publish a partitioned
        output).
    dataset_file_rows : int
        Rows of each file of a ``dataset`` output (the last one fewer).
    tie_order : {"crd_id", "reference"}
        Which survivor a delta_z cluster keeps: ``crd_id`` (default) the smallest integer CRD_ID,
        i.e. the earliest input and row; ``reference`` the smallest reference id *string*
        ``CRD<prefix>_<row>`` (``CRD9_1000`` before ``CRD9_104``), to reproduce a Photo-z Server
        output exactly.
    sentinels : {"keep", "missing"}
        ``keep`` (default, the reference's behaviour): placeholder values such as z = -1 or
        9.9999 are used as they are; ``missing``: the sentinels of z, z_err and z_flag
        (:mod:`pzcat.sentinels`) become missing values before flags are translated.
    neighbor_search : {"partitioned", "lsdb-catalog"}
        ``partitioned``: HEALPix partitions (hats pixel maths) with margins, each matched with
        a k-d tree radius search plus LSDB's n-nearest rule in a Dask task; ``lsdb-catalog``: one
        ``lsdb.from_dataframe`` catalog and one ``Catalog.crossmatch`` of it with itself.
        Both give the same pairs; the first avoids LSDB's fixed start-up cost.
    """

    model_config = ConfigDict(extra="forbid")

    duplicates: Literal["no", "mark", "remove"] = "mark"
    keep_hard_ties: bool = False
    output_format: vocab.OutputFormat = "parquet"
    crossmatch_radius_arcsec: float = Field(default=0.5, gt=0, le=60)
    n_neighbors: int = Field(default=10, ge=2, le=1000)
    delta_z_threshold: float = Field(default=0.0005, ge=0)
    tiebreaking_priority: list[str] = Field(
        default_factory=lambda: ["z_flag_homogenized", "type_homogenized"]
    )
    type_priority: dict[str, int] = Field(default_factory=lambda: dict(vocab.TYPE_PRIORITY))
    cut: int | None = None
    flags_file: Path | None = None
    fields_file: Path | None = None
    footprint_flag: bool = True
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    partition_rows: int = Field(default=500_000, ge=1)
    neighbor_partition_rows: int | None = Field(default=None, ge=1)
    neighbor_search: Literal["partitioned", "lsdb-catalog"] = "partitioned"
    hats_pixel_rows: int = Field(default=1_000_000, ge=1)
    output_layout: Literal["file", "dataset"] = "file"
    dataset_file_rows: int = Field(default=1_000_000, ge=1)
    tie_order: Literal["crd_id", "reference"] = "crd_id"
    sentinels: Literal["keep", "missing"] = "keep"

    @field_validator("tiebreaking_priority")
    @classmethod
    def _normalise_priority(cls, value: list[str]) -> list[str]:
        out = [TYPE_ALIASES.get(v, v) for v in value]
        if len(set(out)) != len(out):
            raise ValueError(f"tiebreaking_priority repeats a column: {value}")
        return out

    @field_validator("type_priority")
    @classmethod
    def _check_types(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - set(vocab.TYPES)
        if unknown:
            raise ValueError(
                f"type_priority has unknown types {sorted(unknown)}; use {', '.join(vocab.TYPES)}"
            )
        return value

    @field_validator("cut")
    @classmethod
    def _check_cut(cls, value: int | None) -> int | None:
        if value is not None and value not in vocab.Z_FLAGS:
            raise ValueError(f"cut must be one of {', '.join(map(str, vocab.Z_FLAGS))}")
        return value

    @model_validator(mode="after")
    def _check_layout(self) -> CombineConfig:
        if self.output_layout == "dataset" and self.output_format != "parquet":
            raise ValueError("output_layout 'dataset' is for output_format 'parquet' only")
        return self

    @property
    def flags_path(self) -> Path:
        """The translation file used by this run."""
        return Path(self.flags_file) if self.flags_file else DEFAULT_FLAGS_FILE

    @property
    def fields_path(self) -> Path:
        """The footprint fields file used by this run."""
        return Path(self.fields_file) if self.fields_file else DEFAULT_FIELDS_FILE

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as plain data (str, int, float, bool, list, dict, None)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CombineConfig:
        """Build a configuration from plain data, raising a coded error when invalid.

        Parameters
        ----------
        data : dict
            As produced by :meth:`to_dict` or read from a user's ``--config`` YAML.

        Raises
        ------
        PipelineError
            ``invalid-config`` with pydantic's explanation.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise PipelineError(
                "invalid-config", f"invalid combine configuration: {problems}"
            ) from exc
