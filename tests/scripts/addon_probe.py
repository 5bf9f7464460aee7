"""Enable and disable LeanRoute as a legacy add-on inside ``blender -b``; report as JSON.

Run as: blender -b --factory-startup --python addon_probe.py -- --expect-class NAME [...]
Prints one line ``LEANROUTE_PROBE {json}``; exits 0 when every expected class was
registered by enabling and removed by disabling, 1 when not, 2 on bad arguments.
"""

import argparse
import json
import sys

import addon_utils
import bpy

ADDON = "leanroute"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="addon_probe.py")
    parser.add_argument("--expect-class", action="append", required=True, dest="classes")
    # Blender passes everything after `--` to the script untouched.
    return parser.parse_args(argv[argv.index("--") + 1 :] if "--" in argv else [])


def main() -> int:
    args = parse_args(sys.argv)
    found = {module.__name__: module for module in addon_utils.modules()}
    report = {
        "blender": bpy.app.version_string,
        "discovered": ADDON in found,
        "bl_info_name": found[ADDON].bl_info.get("name") if ADDON in found else None,
    }
    addon_utils.enable(ADDON, default_set=True)
    report["enabled"] = {name: hasattr(bpy.types, name) for name in args.classes}
    addon_utils.disable(ADDON, default_set=True)
    report["after_disable"] = {name: hasattr(bpy.types, name) for name in args.classes}
    report["missing"] = sorted(name for name, ok in report["enabled"].items() if not ok)
    report["left_behind"] = sorted(name for name, ok in report["after_disable"].items() if ok)
    print("LEANROUTE_PROBE " + json.dumps(report, sort_keys=True), flush=True)
    if report["missing"] or report["left_behind"] or not report["discovered"]:
        print(
            f"addon_probe: not registered: {report['missing']}, "
            f"left behind: {report['left_behind']}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
