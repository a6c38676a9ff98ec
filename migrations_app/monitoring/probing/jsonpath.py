"""The small JSONPath subset probes need: $.a.b, $.items[0].value, $['odd key'], a.b."""

import re

_TOKEN = re.compile(r"\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


class JsonPathError(ValueError):
    pass


def parse(path: str) -> list[str | int]:
    path = (path or "").strip()
    if not path:
        raise JsonPathError("the path is empty")
    if path.startswith("$"):
        path = path[1:]
    elif not path.startswith(("[", ".")):
        path = "." + path
    steps: list[str | int] = []
    position = 0
    while position < len(path):
        match = _TOKEN.match(path, position)
        if not match:
            raise JsonPathError(f"cannot read the path at “{path[position:]}”")
        name, index, quoted, dquoted = match.groups()
        steps.append(int(index) if index is not None else (name or quoted or dquoted or ""))
        position = match.end()
    return steps


def extract(document, path: str):
    value = document
    for step in parse(path):
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                raise JsonPathError(f"no item [{step}]")
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                raise JsonPathError(f"no field “{step}”")
            value = value[step]
    return value
