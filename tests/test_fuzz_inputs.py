"""The self-made attack: a generated corpus of hostile inputs through the real command line.

Every case of :mod:`helpers.fuzz_corpus` (mutated OSM, GPX and jobs files, odd options and
paths; seed 19, ``$LEANROUTE_FUZZ_SCALE`` times the default count) runs through
``leanroute.cli.commands.main`` in this process on the real bpy module, in one scene that
keeps whatever the cases before it built, with the user's own data-blocks in it. Each must:

- answer within the hang limit, with exit code 0 or 1 (2 only for an option argparse refuses);
- print no traceback and no Python exception name, and fail with one line starting
  ``leanroute: error:`` (a jobs file may list its bad rows below it) naming the file or option
  to blame when the input itself is the problem;
- leave its inputs' bytes as they were, the user's data-blocks and their links, and no new
  orphan data-block;
- on failure, leave the scene exactly as it was and no file behind;
- on success, write a .blend (and the report) and nothing else, with a scene within
  5 km of the origin and every key inside the scene's frame range.

``make fuzz`` runs it with a larger scale; see docs/testing.md.
"""

import json
import os
import shutil
import signal

import pytest
from helpers.fuzz_base import OUT_DIR, REFUSE
from helpers.fuzz_checks import (
    CaseHung,
    built_scene_problems,
    hang_guard,
    is_blend,
    make_user_data,
    message_problems,
    orphans,
    scene_changes,
    scene_state,
    temporaries,
    tree,
    user_data_problems,
)
from helpers.fuzz_corpus import generate
from helpers.fuzz_scale import fuzz_scale

from leanroute.cli.commands import main

SEED = 19
#: Generous: the slowest case takes a few seconds; only a hang gets near this.
HANG_LIMIT_S = 120
CASES = generate(SEED, fuzz_scale())
HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: A JSON-lines file to append each case's outcome to (``make fuzz`` sets it).
LOG_VARIABLE = "LEANROUTE_FUZZ_LOG"


@pytest.fixture(scope="module")
def fuzz_scene():
    """One factory scene for the whole corpus, holding data-blocks the user made."""
    from helpers.scene import factory_scene

    factory_scene()
    make_user_data()
    yield
    factory_scene()


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory):
    """A folder for the cases' folders (each removed after its case: builds are 1.6 MB)."""
    return tmp_path_factory.mktemp("fuzz")


def _write_case(case, folder) -> None:
    folder.mkdir()
    for name in case.folders:
        (folder / name).mkdir(parents=True, exist_ok=True)
    for name, data in case.file_bytes(folder).items():
        (folder / name).write_bytes(data)
    for name in case.fifos:
        os.mkfifo(folder / name)
    for name, target, kind in case.links:
        if kind == "symlink":
            (folder / name).symlink_to(folder / target)
        else:
            os.link(folder / target, folder / name)


def _option(argv: list[str], name: str) -> "str | None":
    return argv[argv.index(name) + 1] if name in argv else None


def _file_problems(case, argv, code, before: dict, after: dict, folder) -> list[str]:
    """Inputs unchanged; a failure leaves nothing; a success its outputs and nothing else."""
    problems = [
        f"the input {name} was changed or removed"
        for name, data in case.file_bytes(folder).items()
        if after.get(name) != data
    ]
    added = sorted(set(after) - set(before))
    if temporaries(added):
        problems.append(f"temporaries left: {temporaries(added)[:3]}")
    problems += [
        f"{path} is not a .blend file"
        for path in added
        if path.endswith(".blend") and after[path] is not None and not is_blend(after[path])
    ]
    new_files = [path for path in added if after[path] is not None]
    if argv[0] == "batch":
        # A batch that ran jobs keeps its state; a refused one must leave nothing.
        ran = any(path.startswith(f"{OUT_DIR}/leanroute-batch") for path in added)
        if code != 0 and not ran and new_files:
            problems.append(f"a refused batch left files: {new_files[:3]}")
    elif code != 0 and new_files:
        problems.append(f"a failed build left files: {new_files[:3]}")
    elif code == 0:
        problems += _output_problems(argv, after, folder)
    return problems


def _output_problems(argv, after: dict, folder) -> list[str]:
    """A successful build's .blend (with or without the suffix given) and its JSON report."""
    problems = []
    if argv[0] == "demo":
        out_dir = next(arg for arg in argv if arg.startswith("--out-dir="))[len("--out-dir=") :]
        out, report = f"{out_dir}/demo.blend", f"{out_dir}/demo-report.json"
    else:
        out, report = _option(argv, "--out"), _option(argv, "--report")
    out = out.replace(f"{folder}/", "", 1)
    if not is_blend(after.get(out, after.get(out + ".blend"))):
        problems.append(f"the build succeeded but {out} is not a .blend")
    if report:
        try:
            json.loads(after[report.replace(f"{folder}/", "", 1)])
        except (KeyError, TypeError, ValueError):
            problems.append("the build succeeded but its report is not JSON")
    return problems


def _run(argv) -> "tuple[int | None, list[str]]":
    """main(*argv*) under the hang guard: the exit code, and what escaped it."""
    cwd = os.getcwd()
    try:
        with hang_guard(HANG_LIMIT_S) as fired:
            code = main(argv)
        if fired:
            return code, [f"hung: no answer after {HANG_LIMIT_S} s (the alarm was swallowed)"]
    except CaseHung as hung:
        return None, [f"hung: {hung}"]
    except BaseException as error:  # anything escaping main() is the finding
        return None, [f"main() raised {type(error).__name__}: {error}"[:300]]
    if os.getcwd() != cwd:
        os.chdir(cwd)
        return code, ["the working folder was changed"]
    return code, []


def _outcome_problems(case, argv, code, out: str, err: str) -> list[str]:
    """The exit code against the case's expectation, and what was printed."""
    problems = []
    if code not in ((0, 1, 2) if case.usage_ok else (0, 1)):
        problems.append(f"exit code {code}")
    if case.expect == REFUSE and code == 0:
        problems.append("built or ran; expected a refusal")
    batch = argv[0] == "batch"
    if batch and code == 1 and case.expect != REFUSE and not err.startswith("leanroute: error"):
        # Jobs ran and one failed: the progress lines and the summary say which and why.
        if "failed" not in out + err:
            problems.append("a batch exited 1 without saying what failed")
        code = 0  # its lines are progress, not one error line; still no traceback in them
    mention = case.mention if case.expect == REFUSE else ()
    return problems + message_problems(code, out, err, mention, jobs_listing=batch)


def _scene_problems(argv, code, before: dict, orphans_before: set) -> list[str]:
    """The user's data kept, no new orphans; a failure leaves the scene; a build is sane."""
    problems = user_data_problems()
    left = sorted(orphans() - orphans_before)
    if left:
        problems.append(f"orphan data-blocks left: {left[:4]}")
    if code == 0 and argv[0] in ("build", "demo"):
        return problems + built_scene_problems()
    if code != 0:
        changes = scene_changes(before, scene_state())
        if changes:
            problems.append(f"a failed {argv[0]} changed the scene: {'; '.join(changes)[:300]}")
    return problems


def run_case(case, folder, capfd) -> "tuple[int | None, str, list[str]]":
    """Run *case* in *folder*: its exit code, stderr and every broken promise as a sentence."""
    _write_case(case, folder)
    argv = case.argv(folder)
    files_before, scene_before, orphans_before = tree(folder), scene_state(), orphans()
    handlers = {number: signal.getsignal(number) for number in HANDLED_SIGNALS}
    capfd.readouterr()
    code, problems = _run(argv)
    if problems and problems[0].startswith("hung"):
        return code, "", problems
    out, err = capfd.readouterr()
    problems += _outcome_problems(case, argv, code, out, err)
    if {number: signal.getsignal(number) for number in HANDLED_SIGNALS} != handlers:
        problems.append("signal handlers were not restored")
    problems += _file_problems(case, argv, code, files_before, tree(folder), folder)
    problems += _scene_problems(argv, code, scene_before, orphans_before)
    if problems:
        problems.append(f"(exit {code}; stderr: {err.strip().splitlines()[:3]})")
    return code, err, problems


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_hostile_input_fails_cleanly_or_builds_sanely(case, fuzz_scene, fuzz_root, capfd):
    folder = fuzz_root / case.id.replace("/", "_")
    try:
        code, err, problems = run_case(case, folder, capfd)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    log = os.environ.get(LOG_VARIABLE)
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            record = {"id": case.id, "expect": case.expect, "exit": code, "problems": problems,
                      "stderr": err.strip().splitlines()[:1]}  # fmt: skip
            handle.write(json.dumps(record) + "\n")
    assert not problems, f"{case.id}: " + " | ".join(problems)


def test_the_corpus_is_the_same_for_the_same_seed_and_grows_with_the_scale():
    again = generate(SEED, 1)
    assert again == generate(SEED, 1)
    bigger = generate(SEED, 2)
    assert len(bigger) == 2 * len(again)
    assert len({case.id for case in bigger}) == len(bigger)


def test_the_corpus_covers_every_kind_of_mutation():
    cases = generate(SEED, 1)
    kinds = {case.kind for case in cases}
    assert kinds >= {
        "bytes-osm", "bytes-gpx", "bytes-csv", "bytes-json", "osm-number", "osm-structure",
        "osm-tag-number", "osm-xml", "gpx-number", "gpx-glitch", "gpx-time", "gpx-shape",
        "gpx-ele", "gpx-xml", "jobs-csv", "jobs-number", "jobs-out", "jobs-json", "options",
        "paths", "batch-options", "stacked-osm", "stacked-gpx", "demo", "batch-state",
    }  # fmt: skip
    labels = {case.id.split("-", 1)[1] for case in cases}
    for must in ("nul", "invalid-utf8", "underscore", "arabic-indic", "fullwidth", "1e999"):
        assert any(must in label for label in labels), must
