"""Errors about the user's input: each says what is wrong and where (plain Python, no bpy)."""


class LeanRouteError(Exception):
    """Base of LeanRoute's user-facing errors; ``str()`` is one clear line."""


class InputFileError(LeanRouteError, ValueError):
    """An input file (OSM, GPX) that cannot be read: names the file and, if known, the position."""

    def __init__(
        self, path, message: str, *, line: "int | None" = None, column: "int | None" = None
    ):
        self.path = str(path)
        self.line = line
        self.column = column
        self.reason = message
        where = self.path
        if line is not None:
            where += f":{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {message}")


class RouteError(LeanRouteError, ValueError):
    """A route that cannot be built: names the waypoint (1-based) when one is to blame."""

    def __init__(self, message: str, *, waypoint: "int | None" = None):
        self.waypoint = waypoint
        super().__init__(message)


class SettingsError(LeanRouteError, ValueError):
    """A build setting that is out of range or malformed: names the setting."""

    def __init__(self, setting: str, message: str):
        self.setting = setting
        super().__init__(f"{setting}: {message}")


def describe(error: BaseException) -> str:
    """The one line shown to a user for *error*: the same in the CLI and Blender's reports.

    LeanRoute's own errors already say what is wrong and where; anything else (an OSError,
    a bug) is prefixed with its type so it is not mistaken for a finding about the input.
    """
    text = str(error).splitlines()[0] if str(error) else ""
    if isinstance(error, LeanRouteError) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
