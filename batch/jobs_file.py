"""The jobs file of a batch (CSV or JSON), read and validated up front (no bpy).

One job per CSV row or JSON object: an OSM file, waypoints or a GPX track, an output path
and optional per-job settings. Every row is checked before anything runs, and every bad row
is reported at once, with its line (CSV) or job number (JSON), the field and why::

    jobs.csv: 3 problems in 2 jobs; nothing was run
      line 3 (job 'lisbon-2'): osm: file not found: /data/lisbn.osm
      line 3 (job 'lisbon-2'): speed: 'fast' is not a number
      line 7 (job 'krems-6'): out: 'krems-1.blend' is already the output of line 2

Settings come, lowest first, from LeanRoute's defaults, the JSON file's ``defaults``, the
command line, then the job itself. Input paths are relative to the jobs file's folder,
outputs relative to the batch's output folder.
"""

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..route.errors import LeanRouteError, SettingsError
from ..route.routing import parse_waypoints
from ..route.settings import BuildSettings

#: Column (CSV header / JSON key) -> BuildSettings field, for the per-job settings.
SETTING_COLUMNS = {
    "padding": "padding_m",
    "speed": "speed_kmh",
    "fps": "fps",
    "frame_start": "frame_start",
    "frame_end": "frame_end",
    "layers": "layers",
    "height": "default_height_m",
    "snap": "snap_gpx",
    "car_blend": "car_blend",
    "car_object": "car_object",
}
COLUMNS = ("id", "osm", "waypoints", "gpx", "out", *SETTING_COLUMNS)
_FLOATS = {"padding", "speed", "height"}
_INTS = {"fps", "frame_start", "frame_end"}
_INPUT_PATHS = {"osm", "gpx", "car_blend"}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
#: Problems listed in the error at most; the count says how many more there were.
MAX_LISTED = 50


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with one job: where, which field, why."""

    where: str
    field: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.why}"


class JobsFileError(LeanRouteError):
    """The jobs file cannot be run; ``problems`` lists every bad row (str(): one per line)."""

    def __init__(self, path, problems: "list[RowProblem] | str"):
        self.path = str(path)
        if isinstance(problems, str):
            self.problems = []
            super().__init__(f"{self.path}: {problems}")
            return
        self.problems = list(problems)
        jobs = len({problem.where for problem in self.problems})
        count = len(self.problems)
        head = (
            f"{self.path}: {count} problem{'s' * (count != 1)} in {jobs} "
            f"job{'s' * (jobs != 1)}; nothing was run"
        )
        lines = [f"  {problem}" for problem in self.problems[:MAX_LISTED]]
        if count > MAX_LISTED:
            lines.append(f"  … and {count - MAX_LISTED} more")
        super().__init__("\n".join([head, *lines]))


@dataclass(frozen=True)
class Job:
    """One validated job: its id, where it is in the file, and its build settings."""

    id: str
    row: int  # 1-based position among the jobs
    where: str  # "line 5" (CSV) or "job 5" (JSON), for messages
    settings: BuildSettings  # out resolved; report set by the runner
    fingerprint: str  # changes when the job's inputs or settings change

    @property
    def out(self) -> Path:
        """The .blend file this job writes."""
        return self.settings.out


def read_jobs(path, out_dir, overrides: "dict | None" = None) -> list[Job]:
    """Read and validate the jobs file *path*; outputs go under *out_dir*.

    *overrides* are settings from the command line (column names, typed values), applied
    over the file's defaults and under each job's own values. Raises :class:`JobsFileError`
    listing every problem.
    """
    path = Path(path)
    out_dir = Path(out_dir).expanduser().resolve()
    if not path.is_file():
        raise JobsFileError(path, "no such jobs file" if not path.exists() else "not a file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows, defaults = _csv_rows(path), {}
    elif suffix == ".json":
        rows, defaults = _json_rows(path)
    else:
        raise JobsFileError(path, f"unknown jobs file type {suffix!r}: use .csv or .json")
    if not rows:
        raise JobsFileError(path, "holds no jobs")
    base = {**defaults, **(overrides or {})}
    problems: list[RowProblem] = []
    jobs: list[Job] = []
    seen_ids: dict[str, str] = {}
    seen_outs: dict[Path, str] = {}
    for row_number, (where, values) in enumerate(rows, start=1):
        job = _job(path.parent, out_dir, row_number, where, {**base, **values}, problems)
        if job is None:
            continue
        if job.id in seen_ids:
            problems.append(
                RowProblem(job.where, "id", f"{job.id!r} is already the id of {seen_ids[job.id]}")
            )
        elif job.out in seen_outs:
            problems.append(
                RowProblem(
                    job.where,
                    "out",
                    f"{job.out.name!r} is already the output of {seen_outs[job.out]}",
                )
            )
        else:
            seen_ids[job.id] = job.where
            seen_outs[job.out] = job.where
            jobs.append(job)
    if problems:
        raise JobsFileError(path, problems)
    return jobs


# -- reading the two formats ---------------------------------------------------------------


def _csv_rows(path: Path) -> list[tuple[str, dict]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle, skipinitialspace=True)
            header = reader.fieldnames
            if not header:
                raise JobsFileError(path, "is empty: the first line must name the columns")
            _check_header(path, [name.strip() for name in header if name is not None])
            rows = []
            for record in reader:
                where = f"line {reader.line_num}"
                extra = record.pop(None, None)
                values = {
                    key.strip(): value.strip()
                    for key, value in record.items()
                    if key is not None and value is not None and value.strip()
                }
                if extra:
                    values["__extra__"] = extra
                if values:  # a blank line is not a job
                    rows.append((where, values))
            return rows
    except UnicodeDecodeError as error:
        raise JobsFileError(path, f"is not UTF-8 text ({error.reason})") from None
    except csv.Error as error:
        raise JobsFileError(path, f"is not valid CSV: {error}") from None


def _check_header(path: Path, header: list[str]) -> None:
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise JobsFileError(
            path, f"unknown column(s) {', '.join(map(repr, unknown))}; known: {', '.join(COLUMNS)}"
        )
    if "osm" not in header:
        raise JobsFileError(path, "has no 'osm' column")


def _json_rows(path: Path) -> tuple[list[tuple[str, dict]], dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise JobsFileError(path, f"is not UTF-8 text ({error.reason})") from None
    except json.JSONDecodeError as error:
        raise JobsFileError(
            path, f"line {error.lineno} column {error.colno}: not valid JSON: {error.msg}"
        ) from None
    defaults: dict = {}
    if isinstance(data, dict):
        defaults = data.get("defaults", {})
        if not isinstance(defaults, dict):
            raise JobsFileError(path, "'defaults' must be an object of settings")
        unknown = set(data) - {"defaults", "jobs"}
        if unknown or "jobs" not in data:
            raise JobsFileError(
                path, 'must be a list of jobs or {"defaults": {...}, "jobs": [...]}'
            )
        bad = sorted(set(defaults) - set(SETTING_COLUMNS))
        if bad:
            raise JobsFileError(
                path, f"defaults: unknown setting(s) {bad}; known: {', '.join(SETTING_COLUMNS)}"
            )
        data = data["jobs"]
    if not isinstance(data, list):
        raise JobsFileError(path, 'must be a list of jobs or {"defaults": {...}, "jobs": [...]}')
    rows = []
    for number, item in enumerate(data, start=1):
        where = f"job {number}"
        if not isinstance(item, dict):
            rows.append((where, {"__not_object__": type(item).__name__}))
        else:
            rows.append((where, dict(item)))
    return rows, defaults


# -- one job -------------------------------------------------------------------------------


def _job(
    folder: Path, out_dir: Path, row: int, where: str, values: dict, problems: list[RowProblem]
) -> "Job | None":
    before = len(problems)
    if "__not_object__" in values:
        problems.append(
            RowProblem(where, "job", f"must be an object, not {values['__not_object__']}")
        )
        return None
    job_id = _text(values.get("id", ""))
    if job_id:
        where = f"{where} (job {job_id!r})"

    def problem(field: str, why: str) -> None:
        problems.append(RowProblem(where, field, why))

    if "__extra__" in values:
        problem("row", f"more values than columns: {values.pop('__extra__')!r}")
    for name in sorted(set(values) - set(COLUMNS)):
        problem(name, f"unknown field; known: {', '.join(COLUMNS)}")
    paths = _input_paths(folder, values, problem)
    waypoints = _route(values, paths, problem)
    settings_values = {}
    for column, field_name in SETTING_COLUMNS.items():
        if values.get(column) not in (None, ""):
            try:
                settings_values[field_name] = _setting(column, values[column], paths)
            except ValueError as error:
                problem(column, str(error))
    if not job_id:
        stem = Path(_text(values["out"])).stem if values.get("out") else None
        job_id = stem or f"{Path(_text(values.get('osm', 'job'))).stem}-{row:03d}"
    elif not _ID.match(job_id):
        problem("id", f"{job_id!r}: use letters, digits, '.', '_' and '-' (it names files)")
    out = _output(values.get("out"), job_id, out_dir, problem)
    if len(problems) > before:
        return None
    try:
        settings = BuildSettings(
            osm=paths["osm"], waypoints=waypoints, gpx=paths.get("gpx"), out=out, **settings_values
        )
    except SettingsError as error:
        problem(_column_of(error.setting), str(error).split(": ", 1)[-1])
        return None
    return Job(job_id, row, where, settings, fingerprint(settings))


def _input_paths(folder: Path, values: dict, problem) -> dict[str, Path]:
    # Relative to the jobs file, so a jobs file and its inputs move together.
    paths = {}
    for name in _INPUT_PATHS:
        if values.get(name) in (None, ""):
            continue
        candidate = (folder / Path(_text(values[name])).expanduser()).resolve()
        if not candidate.is_file():
            problem(name, f"file not found: {candidate}")
        paths[name] = candidate
    if values.get("osm") in (None, ""):
        problem("osm", "missing: every job needs an OpenStreetMap file")
    return paths


def _route(values: dict, paths: dict, problem) -> tuple:
    raw = values.get("waypoints")
    if raw in (None, "", []):
        if "gpx" not in paths and values.get("gpx") in (None, ""):
            problem("waypoints", 'missing: give waypoints ("lat,lon;lat,lon") or a gpx track')
        return ()
    if "gpx" in paths:
        problem("waypoints", "give waypoints or a gpx track, not both")
    try:
        return _waypoints(raw)
    except SettingsError as error:
        problem("waypoints", str(error).removeprefix("waypoints: "))
        return ()


def _text(value) -> str:
    return str(value).strip()


def _waypoints(raw) -> tuple:
    if isinstance(raw, str):
        return tuple(parse_waypoints(raw, "waypoints"))
    if isinstance(raw, list):
        text = ";".join(
            ",".join(str(v) for v in pair) if isinstance(pair, list | tuple) else str(pair)
            for pair in raw
        )
        return tuple(parse_waypoints(text, "waypoints"))
    raise SettingsError("waypoints", f"must be text or a list of [lat, lon], not {raw!r}")


def _setting(column: str, raw, paths: dict):
    if column in _FLOATS:
        return _number(raw, float)
    if column in _INTS:
        return _number(raw, int)
    if column == "snap":
        return _boolean(raw)
    if column == "layers":
        items = raw if isinstance(raw, list) else str(raw).replace(";", ",").split(",")
        return frozenset(str(item).strip() for item in items if str(item).strip())
    if column == "car_blend":
        return paths["car_blend"]
    return _text(raw)


def _number(raw, kind):
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not a number")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{raw!r} is not a number") from None
    if kind is int:
        if not value.is_integer():
            raise ValueError(f"{raw!r} is not a whole number")
        return int(value)
    return value


def _boolean(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{raw!r} is not yes/no (true, false, 1, 0)")


def _output(raw, job_id: str, out_dir: Path, problem) -> Path:
    name = _text(raw) if raw not in (None, "") else f"{job_id}.blend"
    out = (out_dir / Path(name).expanduser()).resolve()
    if out.suffix.lower() != ".blend":
        problem("out", f"{name!r} must be a .blend file")
    return out


def _column_of(setting: str) -> str:
    fields = {field: column for column, field in SETTING_COLUMNS.items()}
    return fields.get(setting, setting)


def fingerprint(settings: BuildSettings) -> str:
    """A short hash of everything that decides a job's output (not where its report goes)."""
    data = settings.to_dict()
    data.pop("report", None)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
