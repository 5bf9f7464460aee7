// SPDX-License-Identifier: GPL-3.0-or-later
//
// LeanRoute batch runs as a Flamenco 3 job type: one task per shard (`--shard I/N`).
// Map data © OpenStreetMap contributors.
//
// Install: copy this file into the `scripts` folder next to the `flamenco-manager`
// executable. See docs/batch.md, "Farms".
//
// Where the API comes from (Flamenco's own documentation):
// - job compiler scripts: `const JOB_TYPE = {label, settings}`, `function compileJob(job)`,
//   `author.Task(name, taskType)`, `task.addCommand()`, `job.addTask()`:
//   https://flamenco.blender.org/usage/job-types/
// - the `blender-render` command and its parameters (`exe`, `exeArgs`, `argsBefore`,
//   `blendfile`, `args`; invocation `{exe} {exeArgs} {argsBefore} {blendfile} {args}`):
//   https://flamenco.blender.org/usage/jobs-tasks-commands/commands/
// - the `{blender}` variable, replaced on each worker by its Blender executable:
//   https://flamenco.blender.org/usage/variables/
// - setting types and subtypes (`int32`, `bool`, `file_path`, `dir_path`, `propargs`,
//   `visible`): the built-in job type scripts/simple_blender_render.js in Flamenco's source.
//
// The jobs file, its input files and the output folder must be on storage that every
// worker sees at the same path. Every shard reads the same jobs file; the shards may share
// the output folder, since each keeps its own checkpoint and report.

const JOB_TYPE = {
    label: "LeanRoute Batch",
    settings: [
        {
            key: "leanroute_script",
            type: "string",
            subtype: "file_path",
            required: true,
            default: "/opt/leanroute/cli/blender_script.py",
            description: "LeanRoute's cli/blender_script.py, as the workers see it",
            visible: "submission",
        },
        {
            key: "jobs_file",
            type: "string",
            subtype: "file_path",
            required: true,
            description: "The jobs file (.csv or .json) on shared storage",
            visible: "submission",
        },
        {
            key: "out_dir",
            type: "string",
            subtype: "dir_path",
            required: true,
            description: "Folder for the outputs and the batch's state (--out)",
            visible: "submission",
        },
        {
            key: "shards",
            type: "int32",
            default: 4,
            propargs: { min: 1, max: 1000 },
            description: "Number of shards: one task each (--shard I/N)",
            visible: "submission",
        },
        {
            key: "isolate",
            type: "bool",
            default: false,
            description: "Run each job in a fresh Blender process (--isolate)",
            visible: "submission",
        },
        {
            key: "workers",
            type: "int32",
            default: 1,
            propargs: { min: 1, max: 64 },
            description: "Processes at once within one task (--workers); more than 1 needs " +
                "--isolate or --recycle-every",
            visible: "submission",
        },
        {
            key: "extra_args",
            type: "string",
            default: "",
            description: "More batch options, separated by spaces, e.g. " +
                "'--recycle-every 5 --hard-budget 6GB' (no spaces inside a value)",
            visible: "submission",
        },
    ],
};

function compileJob(job) {
    const settings = job.settings;
    const shards = Number(settings.shards);
    if (!Number.isInteger(shards) || shards < 1) {
        throw `shards must be a whole number of 1 or more, not ${settings.shards}`;
    }
    const workers = settings.workers === undefined ? 1 : Number(settings.workers);
    if (!Number.isInteger(workers) || workers < 1) {
        throw `workers must be a whole number of 1 or more, not ${settings.workers}`;
    }
    const extra = String(settings.extra_args || "").split(/\s+/).filter((part) => part !== "");
    if (extra.indexOf("--shard") >= 0) {
        throw "extra_args: leave out --shard; the job type gives each task its shard";
    }

    const mode = [];
    if (settings.isolate) {
        mode.push("--isolate");
    }
    if (workers > 1) {
        // LeanRoute refuses --workers without a process mode; fail at submission instead
        // of in every task.
        if (!settings.isolate && extra.indexOf("--recycle-every") < 0) {
            throw "workers > 1 needs isolate, or --recycle-every N in extra_args";
        }
        mode.push("--workers", String(workers));
    }

    for (let index = 1; index <= shards; index++) {
        const task = author.Task(`leanroute-shard-${index}-of-${shards}`, "blender");
        task.addCommand(author.Command("blender-render", {
            exe: "{blender}",
            // No exeArgs: the farm's {blenderArgs} are meant for rendering a .blend file.
            // No blendfile: the script builds the scenes itself (an empty blendfile is
            // left out of the command line).
            argsBefore: ["-b", "--factory-startup", "--python", settings.leanroute_script],
            blendfile: "",
            args: ["--", "batch", settings.jobs_file, "--out", settings.out_dir,
                   "--shard", `${index}/${shards}`].concat(mode, extra),
        }));
        job.addTask(task);
    }
}
