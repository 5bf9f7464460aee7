"""The counters of a result dataclass as a dict, for reports (no bpy)."""

from dataclasses import fields


def count_fields(result) -> dict[str, int]:
    """Every ``int`` field of the dataclass *result*, in declaration order.

    Derived from the fields, so a counter added to a result class reaches the reports
    without a second list to keep in step.
    """
    return {
        field.name: getattr(result, field.name)
        for field in fields(result)
        if field.type in (int, "int")
    }
