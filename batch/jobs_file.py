"""The jobs file of a batch (CSV or JSON), read and validated up front (no bpy).

One job per CSV row or JSON object: an OSM file, waypoints or a GPX track, an output path
and optional per-job settings. Every row is checked before anything runs, and every bad row
is reported at once, with its line (CSV) or job number and line (JSON), the field and why::

    jobs.csv: 3 problems in 2 jobs; nothing was run
      line 3 (job 'lisbon-2'): osm: file not found: /data/lisbn.osm
      line 3 (job 'lisbon-2'): speed: 'fast' is not a number
      line 7 (job 'krems-6'): out: 'krems-1.blend' is already the output of line 2

Settings come, lowest first, from LeanRoute's defaults, the JSON file's ``defaults``, the
command line, then the job itself. Input paths are relative to the jobs file's folder,
outputs relative to the batch's output folder.

Strict reading: the file must be a regular file (a FIFO or device is refused before it is
opened), UTF-8 text (a UTF-8 byte-order mark is allowed; UTF-16/32 and NUL bytes are named);
a CSV header may not name a column twice; JSON is read by :mod:`..route.strict_json` (no
duplicate keys at any depth, no NaN/Infinity, no huge integers, no deep nesting, each
refusal at its line and column). Numbers follow :mod:`..route.strict_numbers` (ASCII digits,
no ``1_0``, finite), each value must have its column's type (text, number, yes/no, list).

A job's ``out`` must be a ``.blend`` path relative to ``--out`` that stays inside it once
``..`` and symbolic links are resolved, is not the batch's own state folder, not a folder,
FIFO or device, not another job's output and not any job's input (or the jobs file itself).
"""

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..route.errors import InputFileError, LeanRouteError, SettingsError
from ..route.input_files import check_input_file, open_input
from ..route.output_paths import Output, check_target
from ..route.routing import parse_waypoints
from ..route.settings import BuildSettings
from ..route.strict_json import JsonError, JsonObject, load_json
from ..route.strict_numbers import NumberError, parse_decimal, shown, strip_ascii
from .batch_paths import STATE_FOLDER
from .output_folder import blocked_by

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
_INPUT_PATHS = {"osm": "an OSM file", "gpx": "a GPX file", "car_blend": "a .blend file"}
_TEXT_COLUMNS = {"id", "osm", "gpx", "out", "car_blend", "car_object"}
_ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_ID_LENGTH = 128
#: Problems listed in the error at most; the count says how many more there were.
MAX_LISTED = 50
#: More jobs than this in one file are refused (a million-row file is a mistake).
MAX_JOBS = 100_000
#: A jobs file larger than this is refused before it is read whole (100,000 jobs fit).
MAX_BYTES = 256 << 20


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with one job: where, which field, why."""

    where: str
    field: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.why}"


class JobsFileError(LeanRouteError):
    """The jobs file cannot be run; ``problems`` lists every bad row (str(): one per line).

    A problem with the file as a whole is one line, ``path:line:column: why`` where the
    position is known.
    """

    def __init__(
        self,
        path,
        problems: "list[RowProblem] | str",
        *,
        line: "int | None" = None,
        column: "int | None" = None,
    ):
        self.path = str(path)
        self.line, self.column = line, column
        if isinstance(problems, str):
            self.problems = []
            where = self.path
            if line is not None:
                where += f":{line}" + (f":{column}" if column is not None else "")
            super().__init__(f"{where}: {problems}")
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
    where: str  # "line 5" (CSV) or "job 5 at line 9" (JSON), for messages
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
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise JobsFileError(path, f"unknown jobs file type {suffix!r}: use .csv or .json")
    text = _read_text(path)
    if suffix == ".csv":
        rows, defaults = _csv_rows(path, text), {}
    else:
        rows, defaults = _json_rows(path, text)
    if not rows:
        raise JobsFileError(path, "holds no jobs")
    base = {**defaults, **(overrides or {})}
    problems: list[RowProblem] = []
    jobs: list[Job] = []
    seen_ids: dict[str, str] = {}
    for row_number, (where, values) in enumerate(rows, start=1):
        job = _job(path.parent, out_dir, row_number, where, {**base, **values}, problems)
        if job is None:
            continue
        if job.id in seen_ids:
            problems.append(
                RowProblem(job.where, "id", f"{job.id!r} is already the id of {seen_ids[job.id]}")
            )
            continue
        seen_ids[job.id] = job.where
        jobs.append(job)
    jobs = _without_shared_files(path, jobs, problems)
    if problems:
        raise JobsFileError(path, problems)
    return jobs


# -- reading the two formats ---------------------------------------------------------------


def _read_text(path: Path) -> str:
    """The jobs file's text: a regular file, UTF-8 (a BOM allowed), no NUL bytes."""
    try:
        with open_input(path, "a jobs file") as stream:
            data = stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise JobsFileError(
                path, f"is larger than {MAX_BYTES >> 20} MiB, too large for a jobs file: split it"
            )
    except InputFileError as error:
        reason = error.reason
        raise JobsFileError(
            path, "no such jobs file" if reason == "no such file" else reason
        ) from None
    except OSError as error:
        raise JobsFileError(path, f"cannot be read: {error.strerror or error}") from None
    for bom, name in (
        (b"\x00\x00\xfe\xff", "UTF-32"),
        (b"\xff\xfe\x00\x00", "UTF-32"),
        (b"\xff\xfe", "UTF-16"),
        (b"\xfe\xff", "UTF-16"),
    ):
        if data.startswith(bom):
            raise JobsFileError(path, f"is {name} text: save it as UTF-8", line=1, column=1)
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        column = nul - (data.rfind(b"\n", 0, nul) + 1) + 1
        raise JobsFileError(
            path,
            "a NUL byte (binary data): the file is damaged or not a text file",
            line=line,
            column=column,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise JobsFileError(
            path, f"is not UTF-8 text ({error.reason}): save it as UTF-8", line=line, column=column
        ) from None


def _csv_rows(path: Path, text: str) -> list[tuple[str, dict]]:
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    try:
        header = next(reader, None)
        if not header or not any(strip_ascii(name) for name in header):
            raise JobsFileError(path, "is empty: the first line must name the columns")
        names = [strip_ascii(name) for name in header]
        _check_header(path, names)
        rows = []
        line = reader.line_num + 1
        for record in reader:
            where = f"line {line}"
            line = reader.line_num + 1
            values = {
                name: strip_ascii(value)
                for name, value in zip(names, record, strict=False)
                if strip_ascii(value)
            }
            if len(record) > len(names) and any(strip_ascii(v) for v in record[len(names) :]):
                values["__extra__"] = record[len(names) :]
            if values:  # a blank line is not a job
                rows.append((where, values))
            if len(rows) > MAX_JOBS:
                raise JobsFileError(path, f"holds more than {MAX_JOBS:,} jobs: split it")
        return rows
    except csv.Error as error:
        raise JobsFileError(path, f"is not valid CSV: {error}", line=reader.line_num) from None


def _check_header(path: Path, header: list[str]) -> None:
    for index, name in enumerate(header):
        if not name:
            raise JobsFileError(
                path, f"column {index + 1} has no name: name it or remove it", line=1
            )
        if name in header[:index]:
            raise JobsFileError(
                path,
                f"the column {name!r} appears twice (columns {header.index(name) + 1} and "
                f"{index + 1}): keep one",
                line=1,
            )
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise JobsFileError(
            path,
            f"unknown column(s) {', '.join(map(repr, unknown))}; known: {', '.join(COLUMNS)}",
            line=1,
        )
    if "osm" not in header:
        raise JobsFileError(path, "has no 'osm' column", line=1)


def _json_rows(path: Path, text: str) -> tuple[list[tuple[str, dict]], dict]:
    try:
        data = load_json(text)
    except JsonError as error:
        raise JobsFileError(
            path, f"not valid JSON: {error.reason}", line=error.line, column=error.column
        ) from None
    shape = 'must be a list of jobs or {"defaults": {...}, "jobs": [...]}'
    defaults: dict = {}
    if isinstance(data, dict):
        unknown = set(data) - {"defaults", "jobs"}
        if unknown or "jobs" not in data:
            raise JobsFileError(path, shape, **_position(data))
        defaults = data.get("defaults", {})
        if not isinstance(defaults, dict):
            raise JobsFileError(
                path, "'defaults' must be an object of settings", **_position(data, "defaults")
            )
        bad = sorted(set(defaults) - set(SETTING_COLUMNS))
        if bad:
            raise JobsFileError(
                path,
                f"defaults: unknown setting(s) {bad}; known: {', '.join(SETTING_COLUMNS)}",
                **_position(defaults, bad[0]),
            )
        data = data["jobs"]
    if not isinstance(data, list):
        raise JobsFileError(path, shape, **_position(data))
    if len(data) > MAX_JOBS:
        raise JobsFileError(path, f"holds more than {MAX_JOBS:,} jobs: split it")
    rows = []
    positions = getattr(data, "positions", [])
    for number, item in enumerate(data, start=1):
        line = positions[number - 1][0] if number <= len(positions) else 0
        where = f"job {number} at line {line}" if line else f"job {number}"
        if not isinstance(item, dict):
            rows.append((where, {"__not_object__": _type_name(item)}))
        else:
            rows.append((where, dict(item)))
    return rows, defaults


def _position(data, key: "str | None" = None) -> dict:
    """``line=``/``column=`` of a JSON object (or of its *key*), if known."""
    if key is not None and isinstance(data, JsonObject) and key in data.key_positions:
        line, column = data.key_positions[key]
        return {"line": line, "column": column}
    line = getattr(data, "line", 0)
    return {"line": line, "column": getattr(data, "column", None)} if line else {}


def _type_name(value) -> str:
    """How a JSON value's type is called in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


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

    def problem(field: str, why: str) -> None:
        problems.append(RowProblem(where, field, why))

    _check_text_columns(values, problem)
    job_id = _text(values, "id")
    if job_id:
        where = f"{where} (job {job_id!r})"
    if "__extra__" in values:
        problem("row", f"more values than columns: {values.pop('__extra__')!r}")
    for name in sorted(set(values) - set(COLUMNS)):
        problem(name, f"unknown field; known: {', '.join(COLUMNS)}")
    paths = _input_paths(folder, values, problem)
    waypoints = _route(values, paths, problem)
    settings_values = _settings_values(values, paths, problem)
    if not job_id:
        stem = Path(_text(values, "out")).stem
        osm_stem = Path(_text(values, "osm")).stem
        job_id = _id_from(stem) or f"{_id_from(osm_stem) or 'job'}-{row:03d}"
    elif not _is_id(job_id):
        problem("id", f"{shown(job_id)}: use letters, digits, '.', '_' and '-' (it names files)")
    out = _output(values, job_id, out_dir, problem)
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


def _check_text_columns(values: dict, problem) -> None:
    """Paths from the command line become text; a text column holding another type is a problem."""
    for name in sorted(_TEXT_COLUMNS & set(values)):
        value = values[name]
        if isinstance(value, os.PathLike):
            values[name] = os.fspath(value)
        elif value is not None and not isinstance(value, str):
            problem(name, f"must be text, not {_type_name(value)}")


def _settings_values(values: dict, paths: dict, problem) -> dict:
    """The per-job settings given, as BuildSettings fields; problems for bad values."""
    found = {}
    for column, field_name in SETTING_COLUMNS.items():
        if column in _TEXT_COLUMNS and not isinstance(values.get(column), str):
            continue  # missing, or of the wrong type (already a problem)
        if values.get(column) not in (None, ""):
            try:
                found[field_name] = _setting(column, values[column], paths)
            except ValueError as error:
                problem(column, str(error))
    return found


def _text(values: dict, name: str) -> str:
    """The text in column *name* without ASCII spaces around it; "" if unset or not text."""
    value = values.get(name)
    return strip_ascii(value) if isinstance(value, str) else ""


def _is_id(text: str) -> bool:
    return (
        0 < len(text) <= _ID_LENGTH
        and text[0] not in "._-"
        and all(char in _ID_CHARACTERS for char in text)
    )


def _id_from(stem: str) -> str:
    """*stem* as a job id if it is one, else ""."""
    return stem if _is_id(stem) else ""


def _input_paths(folder: Path, values: dict, problem) -> dict[str, Path]:
    # Relative to the jobs file, so a jobs file and its inputs move together.
    paths = {}
    for name, what in _INPUT_PATHS.items():
        raw = _text(values, name)
        if not raw:
            continue
        candidate = (folder / Path(raw).expanduser()).resolve()
        try:
            check_input_file(candidate, what)
        except InputFileError as error:
            if error.reason.startswith("no such file"):
                problem(name, f"file not found: {candidate}")
            else:
                problem(name, f"{candidate} {error.reason}")
        paths[name] = candidate
    osm = values.get("osm")
    if osm is None or osm == [] or (isinstance(osm, str) and not strip_ascii(osm)):
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


def _waypoints(raw) -> tuple:
    if isinstance(raw, str):
        return tuple(parse_waypoints(raw, "waypoints"))
    if isinstance(raw, list):
        pairs = []
        for k, pair in enumerate(raw, start=1):
            if not isinstance(pair, list) or len(pair) != 2:
                raise SettingsError(
                    "waypoints", f"waypoint {k} must be a [lat, lon] pair, not {shown(pair)}"
                )
            pairs.append(",".join(_number_text(k, value) for value in pair))
        return tuple(parse_waypoints(";".join(pairs), "waypoints"))
    raise SettingsError("waypoints", f"must be text or a list of [lat, lon], not {_type_name(raw)}")


def _number_text(k: int, value) -> str:
    """A waypoint's coordinate from a JSON list as text for the one waypoint parser."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return value
    raise SettingsError("waypoints", f"waypoint {k}: {_type_name(value)} is not a number")


def _setting(column: str, raw, paths: dict):
    if column in _FLOATS:
        return _number(raw, float)
    if column in _INTS:
        return _number(raw, int)
    if column == "snap":
        return _boolean(raw)
    if column == "layers":
        if isinstance(raw, list):
            if not all(isinstance(item, str) for item in raw):
                raise ValueError("must be a list of layer names (text)")
            items = raw
        elif isinstance(raw, str):
            items = raw.replace(";", ",").split(",")
        else:
            raise ValueError(f"must be text like 'roads,buildings', not {_type_name(raw)}")
        return frozenset(strip_ascii(item) for item in items if strip_ascii(item))
    if column == "car_blend":
        return paths["car_blend"]
    return strip_ascii(raw)


def _number(raw, kind):
    """A number column's value: a JSON number, or text in the strict grammar."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(f"{_type_name(raw)} is not a number")
    if isinstance(raw, str):
        try:
            value = parse_decimal(strip_ascii(raw))
        except NumberError as error:
            raise ValueError(str(error)) from None
    else:
        value = raw
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{_shown(raw)} is not a whole number")
        return int(value)
    return float(value)


def _boolean(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    text = strip_ascii(raw).lower() if isinstance(raw, str) else None
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{_shown(raw)} is not yes/no (true, false, 1, 0)")


def _shown(value) -> str:
    """A value for a message: text quoted, a JSON number as written."""
    return shown(value) if isinstance(value, str) else str(value)


def _output(values: dict, job_id: str, out_dir: Path, problem) -> "Path | None":
    """The job's output: a .blend under *out_dir*, or None after a problem."""
    raw = values.get("out")
    if raw is None:
        name = f"{job_id}.blend"
    elif not isinstance(raw, str):
        return None  # its type is already a problem
    else:
        name = strip_ascii(raw)
    if not name:
        why = "is empty: give a .blend name under --out, or leave it out for '<id>.blend'"
    else:
        why = _output_problem(name, out_dir)
    if why:
        problem("out", why)
        return None
    return (out_dir / name).resolve()


def _output_problem(name: str, out_dir: Path) -> str:
    """Why the output *name* (relative to *out_dir*) cannot be written, or ""."""
    relative = Path(name)
    if relative.is_absolute() or name.startswith("~"):
        return f"{shown(name)} must be a path relative to --out ({out_dir})"
    real = Path(os.path.realpath(out_dir / relative))
    if real == out_dir or not real.is_relative_to(out_dir):
        where = "is the --out folder itself" if real == out_dir else f"resolves to {real}"
        return f"{shown(name)} {where}, outside --out ({out_dir}): name a file in it"
    if real.relative_to(out_dir).parts[0] == STATE_FOLDER:
        return f"{shown(name)} is in {STATE_FOLDER}/, the batch's own folder: choose another"
    if relative.suffix.lower() != ".blend":
        return f"{shown(name)} must be a .blend file"
    # A file where its folder should be is not the row's fault: the job fails alone when it
    # runs (batch/output_folder.py), and the batch goes on.
    target = Output("out", out_dir / relative, ".blend", by_blender=True)
    try:
        if blocked_by(target.path.parent) is None:
            check_target(target, may_create=True)
    except SettingsError as error:
        return str(error).removeprefix("out: ")
    return ""


def _without_shared_files(path: Path, jobs: list[Job], problems: list[RowProblem]) -> list[Job]:
    """The jobs whose output is no other job's output nor any job's input (or the jobs file).

    Compared by real path and, for files that exist, by identity (device and inode), so a
    symbolic or hard link to another job's file is caught.
    """
    readers: dict[object, str] = {}

    def keys(file: Path) -> list:
        found = [("path", os.path.normcase(os.path.realpath(file)))]
        try:
            status = os.stat(file)
            found.append(("inode", status.st_dev, status.st_ino))
        except OSError:
            pass
        return found

    for key in keys(path):
        readers.setdefault(key, "the jobs file itself")
    for job in jobs:
        settings = job.settings
        for column, file in (
            ("osm", settings.osm),
            ("gpx", settings.gpx),
            ("car_blend", settings.car_blend),
        ):
            if file is not None:
                for key in keys(file):
                    readers.setdefault(key, f"the {column} of {job.where}")
    writers: dict[object, str] = {}
    kept = []
    for job in jobs:
        clash = ""
        for key in keys(job.out):
            if key in readers:
                clash = f"is {readers[key]}: writing it would destroy that input"
            elif key in writers:
                clash = f"is already the output of {writers[key]}"
            if clash:
                break
        if clash:
            problems.append(RowProblem(job.where, "out", f"{job.out.name!r} {clash}"))
            continue
        for key in keys(job.out):
            writers[key] = job.where
        kept.append(job)
    return kept


def _column_of(setting: str) -> str:
    fields = {field: column for column, field in SETTING_COLUMNS.items()}
    return fields.get(setting, setting)


def fingerprint(settings: BuildSettings) -> str:
    """A short hash of everything that decides a job's output (not where its report goes)."""
    data = settings.to_dict()
    data.pop("report", None)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
