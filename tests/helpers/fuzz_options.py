"""Fuzz cases of ``build`` options: odd values, and paths that are inputs, folders or FIFOs.

Values Blender cannot represent or that make no sense must be refused naming the option;
an output that is an input (or another output), a folder or a FIFO must be refused before
anything is built, without touching it.
"""

from helpers.fuzz_base import ANY, CSV, GPX, OSM, OUT_DIR, REFUSE, Corpus, csv_of, job_rows

_BIG = "1099511627776"  # 2**40
#: (option, value, expect).
_OPTION_VALUES = (
    ("--speed", "nan", REFUSE), ("--speed", "inf", REFUSE), ("--speed", "1e999", REFUSE),
    ("--speed", "0", REFUSE), ("--speed", "-5", REFUSE), ("--speed", "1e-300", REFUSE),
    ("--speed", "1e9", ANY), ("--speed", "1_0", REFUSE), ("--padding", "\uff11\uff10", REFUSE),
    ("--padding", "nan", REFUSE), ("--padding", "inf", REFUSE), ("--padding", "-1", REFUSE),
    ("--padding", "1e12", REFUSE), ("--padding", "0", ANY), ("--padding", "-0", ANY),
    ("--height", "nan", REFUSE), ("--height", "-inf", REFUSE), ("--height", "-3", REFUSE),
    ("--height", "1e30", REFUSE), ("--height", "0", ANY),
    ("--fps", "0", REFUSE), ("--fps", "-1", REFUSE), ("--fps", "1000000", REFUSE),
    ("--fps", "2147483648", REFUSE), ("--fps", "9" * 400, REFUSE), ("--fps", "1", ANY),
    ("--fps", "24.0", REFUSE), ("--fps", "\u0662\u0664", REFUSE),
    ("--frame-start", "-" + _BIG, REFUSE), ("--frame-start", _BIG, REFUSE),
    ("--frame-start", "1048575", REFUSE), ("--frame-start", "1048570", ANY),
    ("--frame-start", "-10", ANY), ("--frame-start", "0", ANY),
    ("--frame-end", "0", ANY), ("--frame-end", "1", ANY), ("--frame-end", "2", ANY),
    ("--frame-end", _BIG, REFUSE), ("--frame-end", "1048575", REFUSE),
    ("--layers", "", ANY), ("--layers", ",,,", ANY), ("--layers", "roads,roads", ANY),
    ("--layers", "ROADS", ANY),
    ("--route", "-33.86,151.2;-33.87,151.21", REFUSE),
    ("--route", "4_5.0,-30;45.001,-29.999", REFUSE),
    ("--route", "45,-30", REFUSE),
    ("--route", "nan,-30;45,-30", REFUSE),
    ("--route", "91,-30;45,-30", REFUSE),
    ("--route", "45,-30;45,-30", ANY),
    ("--route", "45,-30;;45.001,-29.999", REFUSE),
)  # fmt: skip


def option_case(corpus: Corpus, number: int) -> None:
    """An option given an odd value (numbers, frames, layers, waypoints), each in turn."""
    option, value, expect = _OPTION_VALUES[number % len(_OPTION_VALUES)]
    args = list(corpus.build_route())
    if option == "--route":
        args[args.index("--route") + 1] = value
    else:
        args.append(f"{option}={value}")
    shown = value if len(value) < 16 else value[:6] + "-long"
    name = option[2:].replace("-", "_")
    corpus.add("options", f"{option[2:]}-{shown}", args, {OSM: corpus.base.osm}, expect=expect,
               mention=(option, name), usage_ok=True)  # fmt: skip


def _set(args, option: str, value: str) -> list[str]:
    """*args* with *option* given *value* (replaced, or added at the end)."""
    args = list(args)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    return args


def path_case(corpus: Corpus, number: int) -> None:
    """Outputs on inputs or on each other, folders, FIFOs, odd names and car files as paths."""
    osm = {OSM: corpus.base.osm}
    both = {**osm, GPX: corpus.gpx()}
    route, track = corpus.build_route(), corpus.build_gpx()
    out, report, car = ("--out", "out:"), ("--report", "report:"), ("--car-blend", "car_blend")
    long_name = "{case}/out/" + "n" * 250 + ".blend"
    cases = (
        # (label, args, files, expect, mention, fifos, extra folders)
        ("out-is-osm", _set(route, "--out", "{case}/" + OSM), osm, REFUSE, out, ()),
        ("report-is-osm", _set(route, "--report", "{case}/" + OSM), osm, REFUSE, report, ()),
        ("report-is-out", _set(route, "--report", "{case}/out/city.blend"), osm, REFUSE, report,
         ()),
        ("out-is-gpx", _set(track, "--out", "{case}/" + GPX), both, REFUSE, out, ()),
        ("out-is-folder", _set(route, "--out", "{case}/out"), osm, REFUSE, out, ()),
        ("out-is-folder-named-blend", _set(route, "--out", "{case}/dir.blend"), osm, REFUSE, out,
         (), ("dir.blend",)),
        ("out-is-fifo", _set(route, "--out", "{case}/fifo.blend"), osm, REFUSE, out,
         ("fifo.blend",)),
        ("report-is-fifo", _set(route, "--report", "{case}/fifo.json"), osm, REFUSE, report,
         ("fifo.json",)),
        ("osm-is-fifo", _set(route, "--osm", "{case}/fifo.osm"), {}, REFUSE, ("fifo.osm",),
         ("fifo.osm",)),
        ("gpx-is-fifo", _set(track, "--gpx", "{case}/fifo.gpx"), osm, REFUSE, ("fifo.gpx",),
         ("fifo.gpx",)),
        ("osm-is-folder", _set(route, "--osm", "{case}/out"), {}, REFUSE, ("--osm", "osm:"), ()),
        ("gpx-is-osm", _set(track, "--gpx", "{case}/" + OSM), osm, REFUSE, (OSM,), ()),
        ("out-without-suffix", _set(route, "--out", "{case}/out/city"), osm, ANY, out, ()),
        ("out-in-missing-folder", _set(route, "--out", "{case}/out/new/city.blend"), osm, ANY,
         out, ()),
        ("out-under-a-file", _set(route, "--out", f"{{case}}/{OSM}/city.blend"), osm, REFUSE,
         out, ()),
        ("out-name-too-long", _set(route, "--out", long_name), osm, REFUSE, out, ()),
        ("car-blend-is-folder", _set(route, "--car-blend", "{case}/out"), osm, REFUSE, car, ()),
        ("car-blend-is-osm", _set(route, "--car-blend", "{case}/" + OSM), osm, REFUSE,
         (*car, OSM), ()),
        ("car-blend-missing", _set(route, "--car-blend", "{case}/car.blend"), osm, REFUSE, car,
         ()),
        ("car-blend-is-out", _set(route, "--car-blend", "{case}/out/city.blend"), osm, REFUSE,
         (*car, *out), ()),
        ("out-is-osm-by-dot-dot", _set(route, "--out", "{case}/out/../" + OSM), osm, REFUSE,
         out, ()),
        ("out-is-osm-by-double-slash", _set(route, "--out", "{case}//" + OSM), osm, REFUSE,
         out, ()),
        ("unicode-names", _set(_set(route, "--out", "{case}/out/Stra\u00dfe \u00fc.blend"),
                               "--report", "{case}/out/\u6771\u4eac.json"), osm, ANY, out, ()),
        ("names-with-dashes", _set(route, "--out", "{case}/out/-x.blend"), osm, ANY, out, ()),
        ("newline-in-out-name", _set(route, "--out", "{case}/out/a\nb.blend"), osm, ANY, out,
         ()),
        ("unicode-input-name", _set(route, "--osm", "{case}/Stadt \u00fc \u6771.osm"),
         {"Stadt \u00fc \u6771.osm": corpus.base.osm}, ANY, out, ()),
    )  # fmt: skip
    linked = (
        # (label, args, expect, mention, links): outputs reaching an input through a link
        ("out-symlink-to-osm", _set(route, "--out", "{case}/out/link.blend"), REFUSE, out,
         (("out/link.blend", OSM, "symlink"),)),
        ("out-hardlink-to-osm", _set(route, "--out", "{case}/out/link.blend"), REFUSE, out,
         (("out/link.blend", OSM, "hardlink"),)),
        ("report-symlink-to-osm", _set(route, "--report", "{case}/out/link.json"), REFUSE,
         report, (("out/link.json", OSM, "symlink"),)),
        ("out-dangling-symlink", _set(route, "--out", "{case}/out/link.blend"), REFUSE, out,
         (("out/link.blend", "nowhere.blend", "symlink"),)),
        ("out-folder-symlink-to-inputs", _set(route, "--out", "{case}/out/up/" + OSM), REFUSE,
         out, (("out/up", ".", "symlink"),)),
        ("osm-through-symlink", _set(route, "--osm", "{case}/out/link.osm"), ANY, out,
         (("out/link.osm", OSM, "symlink"),)),
    )  # fmt: skip
    turn = number % (len(cases) + len(linked))
    if turn >= len(cases):
        label, args, expect, mention, links = linked[turn - len(cases)]
        corpus.add("paths", label, args, osm, expect=expect, mention=mention, links=links)
        return
    label, args, files, expect, mention, fifos, *folders = cases[turn]
    corpus.add("paths", label, args, files, expect=expect, mention=mention, usage_ok=True,
               fifos=fifos, folders=(OUT_DIR, *(folders[0] if folders else ())))  # fmt: skip


#: (option, value, extra files): batch options refused before any job runs. The budgets
#: come with --restart-above, so a budget wrongly accepted cannot make the batch re-exec
#: (restart) the test process.
_BATCH_OPTIONS = (
    ("--shard", "0/0", ()), ("--shard", "3/2", ()), ("--shard", "1/0", ()),
    ("--shard", "a/b", ()), ("--shard", "\uff11/\uff12", ()), ("--workers", "0", ()),
    ("--workers", "-1", ()), ("--recycle-every", "0", ()),
    ("--hard-budget", "0", ()), ("--hard-budget", "nanGB", ()), ("--hard-budget", "-1GB", ()),
    ("--hard-budget", "1e999GB", ()), ("--soft-budget", "inf", ()),
    ("--compare-to", "{case}/" + CSV, ()), ("--compare-to", "{case}/fifo.json", ("fifo.json",)),
    ("--out", "{case}/" + OSM, ()), ("--out", "{case}/" + CSV, ()),
    ("--padding", "nan", ()), ("--fps", "0", ()), ("--layers", "trees", ()),
    ("jobs", "{case}/fifo.csv", ("fifo.csv",)), ("jobs", "{case}/" + OUT_DIR, ()),
)  # fmt: skip


def batch_option_case(corpus: Corpus, number: int) -> None:
    """A batch option (shard, workers, budgets, --compare-to, --out, settings) that is wrong."""
    option, value, fifos = _BATCH_OPTIONS[number % len(_BATCH_OPTIONS)]
    args = list(corpus.batch(CSV))
    if option == "jobs":
        args[1] = value
    elif option in args:
        args[args.index(option) + 1] = value
    else:
        args.append(f"{option}={value}")
    if "budget" in option:
        args.append("--restart-above=1000TB")
    shown = value.replace("{case}/", "").replace("/", "-")
    name = option.lstrip("-").replace("-", "_")
    corpus.add("batch-options", f"{option.lstrip('-')}-{shown}", args,
               {**corpus.jobs_inputs(), CSV: csv_of(job_rows(corpus.base))}, expect=REFUSE,
               mention=(option, name, value.replace("{case}/", "")), usage_ok=True,
               fifos=fifos)  # fmt: skip


#: (label, extra arguments, expect, mention, fifos, folders, links): ``demo`` into out/demo.
_DEMO = (
    ("one-building", ("--buildings=1",), ANY, (), (), (), ()),
    ("two-buildings", ("--buildings=2",), ANY, (), (), (), ()),
    ("small-no-padding", ("--buildings=3", "--padding=0"), ANY, (), (), (), ()),
    ("small-short-drive", ("--buildings=2", "--frame-end=2"), ANY, (), (), (), ()),
    ("buildings-arabic-indic", ("--buildings=\u0661\u0662",), REFUSE, ("--buildings",), (), (),
     ()),
    ("fps-zero", ("--buildings=2", "--fps=0"), REFUSE, ("--fps", "fps"), (), (), ()),
    ("out-dir-is-osm", ("--buildings=2", "--out-dir={case}/" + OSM), REFUSE,
     ("--out-dir", "out_dir", OSM), (), (), ()),
    ("out-dir-is-fifo", ("--buildings=2", "--out-dir={case}/fifo"), REFUSE,
     ("--out-dir", "out_dir", "fifo"), ("fifo",), (), ()),
    ("sample-is-fifo", ("--buildings=2",), REFUSE, ("sample.osm",), ("out/demo/sample.osm",),
     ("out/demo",), ()),
    ("blend-is-folder", ("--buildings=2",), REFUSE, ("demo.blend",), (),
     ("out/demo", "out/demo/demo.blend"), ()),
    ("blend-is-symlink-to-osm", ("--buildings=2",), REFUSE, ("demo.blend",), (), ("out/demo",),
     (("out/demo/demo.blend", OSM, "symlink"),)),
    ("report-is-hardlink-to-osm", ("--buildings=2",), REFUSE, ("demo-report.json",), (),
     ("out/demo",), (("out/demo/demo-report.json", OSM, "hardlink"),)),
)  # fmt: skip


def demo_case(corpus: Corpus, number: int) -> None:
    """``demo`` with tiny cities and odd options, and its three outputs taken by other things."""
    label, extra, expect, mention, fifos, folders, links = _DEMO[number % len(_DEMO)]
    args = ["demo", "--out-dir={case}/out/demo", "--quiet", *extra]
    corpus.add("demo", label, args, {OSM: corpus.base.osm}, expect=expect, mention=mention,
               usage_ok=True, fifos=fifos, folders=(OUT_DIR, *folders), links=links)  # fmt: skip


#: Files of a batch's state folder, each found as a link to the user's OSM file beforehand.
_STATE_FILES = (
    "report.json", "events.jsonl", "checkpoint.json", "memory-timeline.svg", "lock",
    "jobs/a.json", "logs/in-process.log", "claims/a.claim",
)  # fmt: skip


def batch_state_case(corpus: Corpus, number: int) -> None:
    """A batch state folder holding a link to an input where a file goes, or an input.

    An input in the state folder (the jobs file, an OSM file) is refused: the batch rewrites
    that folder. Whatever the batch does with a link (refuses, or replaces it), the input
    must not change.
    """
    turn = number % (len(_STATE_FILES) + 2)
    if turn >= len(_STATE_FILES):
        _inputs_in_state_folder(corpus, turn - len(_STATE_FILES))
        return
    name = _STATE_FILES[turn]
    kind = ("symlink", "hardlink")[(number // len(_STATE_FILES) + number) % 2]
    path = f"{OUT_DIR}/leanroute-batch/{name}"
    folders = (OUT_DIR, f"{OUT_DIR}/leanroute-batch", path.rsplit("/", 1)[0])
    corpus.add("batch-state", f"{name.replace('/', '-')}-{kind}", corpus.batch(CSV),
               {**corpus.jobs_inputs(), CSV: csv_of(job_rows(corpus.base))},
               folders=tuple(dict.fromkeys(folders)), links=((path, OSM, kind),))  # fmt: skip


def _inputs_in_state_folder(corpus: Corpus, which: int) -> None:
    state = f"{OUT_DIR}/leanroute-batch"
    rows = job_rows(corpus.base)
    if which == 0:  # the jobs file itself, its inputs outside
        label, jobs = "jobs-file-in-state-folder", f"{state}/{CSV}"
        text = csv_of([{**row, "osm": f"../../{OSM}"} for row in rows[:1]])
        files = {**corpus.jobs_inputs(), jobs: text}
    else:  # an input the jobs file names
        label, jobs = "osm-in-state-folder", CSV
        files = {**corpus.jobs_inputs(), f"{state}/{OSM}": corpus.base.osm,
                 CSV: csv_of([{**rows[0], "osm": f"{state}/{OSM}"}])}  # fmt: skip
    corpus.add("batch-state", label, ("batch", "{case}/" + jobs, *corpus.batch(CSV)[2:]), files,
               expect=REFUSE, mention=(CSV, "leanroute-batch"),
               folders=(OUT_DIR, state))  # fmt: skip
