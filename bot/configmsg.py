"""Config problems in plain words: where (file, key or line), what is wrong, and the fix.

pydantic and tomllib describe problems in their own terms ("Extra inputs are not permitted",
"Input should be a valid integer", "Invalid value"); a station's admin gets one line per
problem instead, in the words of the file they wrote: the key as written in TOML, the value
they wrote, what it should be, and — for a misspelt key or section — the name they probably
meant. Used by :mod:`bot.config`; knows the models only through the root model it is given.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

MISSING_GROUPS = (
    "add at least one [[groups]] table with key, name, chat_id, leader and members "
    "(see config.example.toml)"
)

# Fixes for particular keys, by (key path without list indices, error type).
KEY_FIXES: dict[tuple[str, str], str] = {
    ("groups", "missing"): MISSING_GROUPS,
    ("groups", "list_type"): (
        "write each group as a [[groups]] table (double brackets), see config.example.toml"
    ),
    ("groups.key", "missing"): 'add key = "g1" (a short id that roster.order refers to)',
    ("groups.key", "string_pattern_mismatch"): (
        'use 1–16 lowercase letters, digits or "_", e.g. key = "g1"'
    ),
    ("groups.name", "missing"): 'add name = "…" (the group\'s name as shown to staff)',
    ("groups.chat_id", "missing"): (
        "add chat_id = -100… (the group's chat id; send /whoami in the group to see it)"
    ),
    ("groups.leader", "missing"): (
        "add leader = <the leader's Telegram user id> (send /whoami to the bot to see it)"
    ),
    ("groups.members", "list_type"): "write a list of Telegram user ids, e.g. [100002, 100003]",
    ("officers.user_ids", "list_type"): (
        "write a list of Telegram user ids, e.g. user_ids = [900001, 900002]"
    ),
    ("station.code_prefix", "string_pattern_mismatch"): (
        'write 1–4 capital letters A–Z, e.g. code_prefix = "HS"'
    ),
    ("roster.order", "list_type"): 'write a list of group keys, e.g. order = ["g1", "g2"]',
}

_RANGE = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_DATE = {"date_type", "date_parsing", "date_from_datetime_parsing"}


def group_label(index: int, key: str | None) -> str:
    """How a ``[[groups]]`` table is named in messages: its position and its key."""
    return f"[[groups]] #{index + 1}" + (f" (key = {key!r})" if key else "")


# -- what the models say about a location ----------------------------------------------------


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``X``, ``list[X]``, ``dict[K, X]`` or ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _table_model(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model of the table at ``loc`` (list indices skipped), if it is one."""
    model: type[BaseModel] | None = root
    for item in loc:
        if isinstance(item, int):
            continue
        if model is None or item not in model.model_fields:
            return None
        model = _model_of(model.model_fields[item].annotation)
    return model


def _field(root: type[BaseModel], loc: tuple[Any, ...]) -> FieldInfo | None:
    names = [item for item in loc if isinstance(item, str)]
    if not names:
        return None
    model = _table_model(root, tuple(names[:-1]))
    if model is None:
        return None
    return model.model_fields.get(names[-1])


def _is_table(root: type[BaseModel], loc: tuple[Any, ...]) -> bool:
    return _table_model(root, loc) is not None


def _table_name(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """``()`` → "the top level", ``("roster",)`` → "[roster]", groups → "[[groups]]"."""
    names = [str(item) for item in loc if isinstance(item, str)]
    if not names:
        return "the top level"
    field = _field(root, loc)
    many = field is not None and "list" in str(field.annotation)
    return f"[[{'.'.join(names)}]]" if many else f"[{'.'.join(names)}]"


def _toml(value: Any) -> str:
    """A value as it would be written in TOML (short)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, dt.date | dt.time):
        text = value.isoformat()
    elif isinstance(value, dict):
        return "a table"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_toml(item) for item in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= 48 else text[:45] + "…"


def _example(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """ ", e.g. key = <its default>" where the key has a default worth showing."""
    field = _field(root, loc)
    names = [item for item in loc if isinstance(item, str)]
    if field is None or field.default is PydanticUndefined or not names:
        return ""
    default = field.default
    if isinstance(default, BaseModel) or default in ("", [], {}):
        return ""
    return f", e.g. {names[-1]} = {_toml(default)}"


def key_path(loc: tuple[Any, ...], data: Any) -> str:
    """An error location the way it is written in TOML.

    ``("groups", 1, "chat_id")`` becomes ``[[groups]] #2 (key = 'g2').chat_id``.
    """
    parts: list[str] = []
    for item in loc:
        if item == "[key]":  # pydantic's marker for a bad dict key: the key itself is named
            continue
        if isinstance(item, int):
            if parts and parts[-1] == "groups":
                # Show the group's key where the file has one: easier to find than an index.
                try:
                    key = data["groups"][item].get("key")
                except (KeyError, IndexError, TypeError, AttributeError):
                    key = None
                parts[-1] = group_label(item, key if isinstance(key, str) else None)
            else:
                parts[-1] = f"{parts[-1]}[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts) if parts else "(top level)"


# -- one problem, in plain words -------------------------------------------------------------


def _slips(a: str, b: str) -> int:
    """Typing slips between two names: letters added, dropped, changed or swapped."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)  # two letters swapped
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _closest(name: str, known: list[str]) -> str | None:
    """The known name ``name`` is most likely a slip of, if any is close enough."""
    lowered = name.lower()
    scored = [
        (_slips(lowered, key), -difflib.SequenceMatcher(None, lowered, key).ratio(), key)
        for key in known
    ]
    scored = [s for s in scored if s[0] <= max(1, len(s[2]) // 3)]
    return min(scored)[2] if scored else None


def _unknown(root: type[BaseModel], loc: tuple[Any, ...], value: Any) -> tuple[str, str]:
    """A key or section the models do not have: the likely intended name, or where it goes."""
    name = str(loc[-1])
    where = loc[:-1]
    table = _table_model(root, where)
    known = list(table.model_fields) if table is not None else []
    section = isinstance(value, dict)
    what = f"unknown section [{'.'.join(map(str, (*where, name)))}]" if section else "unknown key"

    def shown(key: str) -> str:
        if section or _is_table(root, (*where, key)):
            return f"[{'.'.join(map(str, (*where, key)))}]"
        return f"`{key}`"

    close = _closest(name, known)
    if close:
        return what, f"did you mean {shown(close)}?"
    # The right name in the wrong place (e.g. a key written above every [section] line).
    homes = [
        _table_name(root, (section_name,))
        for section_name, field in root.model_fields.items()
        if (model := _model_of(field.annotation)) is not None and name in model.model_fields
    ]
    if homes and not section:
        place = _table_name(root, where)
        return what, (
            f"`{name}` belongs in {' or '.join(homes)}, not {place}: move it below the "
            f"{homes[0]} line"
        )
    listing = ", ".join(shown(key) for key in known)
    return what, f"remove it or check its spelling; {_table_name(root, where)} has: {listing}"


def _range(err: dict[str, Any], root: type[BaseModel], loc: tuple[Any, ...]) -> tuple[str, str]:
    value = err.get("input")
    if isinstance(value, float) and math.isnan(value):
        return "nan is not a number", "write a number"
    bounds: dict[str, Any] = dict(err.get("ctx") or {})
    field = _field(root, loc)
    for meta in field.metadata if field is not None else []:
        for name in ("ge", "gt", "le", "lt"):
            if getattr(meta, name, None) is not None:
                bounds.setdefault(name, getattr(meta, name))
    too = "small" if err["type"].startswith("greater") else "large"
    if "ge" in bounds and "le" in bounds:
        low, high = bounds["ge"], bounds["le"]
        return f"{_toml(value)} is too {too}", f"write a value from {low} to {high}"
    wanted = []
    if "ge" in bounds:
        wanted.append(f"at least {bounds['ge']}")
    if "gt" in bounds:
        wanted.append(f"greater than {bounds['gt']}")
    if "le" in bounds:
        wanted.append(f"at most {bounds['le']}")
    if "lt" in bounds:
        wanted.append(f"less than {bounds['lt']}")
    return f"{_toml(value)} is too {too}", f"write a value {' and '.join(wanted)}"


def explain(err: dict[str, Any], root: type[BaseModel]) -> tuple[str, str | None]:
    """(what is wrong, the fix) for one pydantic error; the fix is None when the message
    already carries it (our own validators write "problem → fix")."""
    kind = err["type"]
    loc = tuple(err["loc"])
    names = ".".join(str(item) for item in loc if isinstance(item, str) and item != "[key]")
    value = err.get("input")
    shown = _toml(value)
    ctx = err.get("ctx") or {}
    leaf = next((str(item) for item in reversed(loc) if isinstance(item, str)), "")
    fix = KEY_FIXES.get((names, kind))
    example = _example(root, loc)
    if kind == "value_error":
        message = str(ctx.get("error") or err["msg"])
        return message.removeprefix("Value error, "), None
    if kind == "missing":
        return "this required key is missing", fix or (
            "add it (see config.example.toml for the key and an example value)"
        )
    if kind == "extra_forbidden":
        return _unknown(root, loc, value)
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{shown} is not a whole number", fix or f"write a whole number{example}"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"{shown} is not a number", fix or f"write a number{example}"
    if kind in ("bool_parsing", "bool_type"):
        return f"{shown} is not true or false", fix or "write true or false, without quotes"
    if kind == "string_type":
        return f"{shown} is not text", fix or f"write it in double quotes{example}"
    if kind == "list_type":
        return f"{shown} is not a list", fix or (
            f"write a list in square brackets{example or ', e.g. [1, 2]'}"
        )
    if kind == "date_from_datetime_inexact":
        return f"{shown} has a time of day", "write only the date, such as 2026-11-21"
    if kind in _DATE:
        return f"{shown} is not a date", fix or (
            "write a real date as YYYY-MM-DD, such as 2026-11-21"
        )
    if kind == "time_of_day":
        example = example or f', e.g. {leaf} = "08:30"'
        return f"{shown} is not a time of day", fix or (
            f'write a 24-hour time in quotes as "HH:MM"{example}'
        )
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", '"')
        return f"{shown} is not one of the allowed values", f"write {expected}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return (
                f"it is written as [[{names}]] (double brackets)",
                f"write [{names}] with single brackets",
            )
        return f"{shown} is not a table", fix or (
            f"write it as a table, e.g. [{names}] with its keys on the lines below "
            "(see config.example.toml)"
        )
    if kind in _RANGE:
        return _range(err, root, loc)
    if kind in ("string_too_short", "too_short"):
        wanted = ctx.get("min_length", 1)
        if wanted == 1:
            return "this must not be empty", fix or "write a value"
        return f"{shown} is too short", fix or f"write at least {wanted} characters"
    if kind in ("string_too_long", "too_long"):
        return f"{shown} is too long", fix or f"shorten it to at most {ctx.get('max_length')}"
    if kind == "string_pattern_mismatch":
        # The regular expression means little to an operator; the fix shows the format.
        return f"{shown} is not in the expected format", fix or (
            "use the format shown in config.example.toml"
        )
    return f"{shown} is not accepted here", fix or "see config.example.toml for this key"


def validation_message(path: Path, exc: ValidationError, data: Any, root: type[BaseModel]) -> str:
    lines = [f"{path}: the configuration has {exc.error_count()} problem(s):"]
    for err in exc.errors():
        message, fix = explain(dict(err), root)
        line = f"  - {key_path(tuple(err['loc']), data)}: {message}"
        if fix:
            line += f" → {fix}"
        lines.append(line)
    return "\n".join(lines)


# -- TOML syntax -----------------------------------------------------------------------------

_FULL_WIDTH = "＝，：“”‘’［］｛｝＃"
_AT = re.compile(r"\s*\(at (?:line (\d+), column \d+|end of document)\)$")
_KEY_LINE = re.compile(r'^\s*("[^"]*"|[A-Za-z0-9_.-]+)\s*=')


def _duplicate_line(lines: list[str]) -> int | None:
    """The line that writes a key or a [section] a second time (1-based)."""
    scope = ""
    seen: set[tuple[str, str]] = set()
    tables: set[str] = set()
    for number, line in enumerate(lines, 1):
        stripped = line.split("#", 1)[0].strip()
        if stripped.startswith("[["):
            scope = f"{stripped}#{number}"  # each [[x]] is a new table
            continue
        if stripped.startswith("["):
            if stripped in tables:
                return number
            tables.add(stripped)
            scope = stripped
            continue
        match = _KEY_LINE.match(stripped)
        if match:
            if (scope, match.group(1)) in seen:
                return number
            seen.add((scope, match.group(1)))
    return None


def _unclosed_quote_line(lines: list[str]) -> int | None:
    for number, line in enumerate(lines, 1):
        if line.split("#", 1)[0].count('"') % 2 and '"""' not in line:
            return number
    return None


def _unclosed_line(lines: list[str], opening: str, closing: str) -> int | None:
    """The last line that opens more ``opening`` brackets than it closes."""
    found = None
    for number, line in enumerate(lines, 1):
        code = line.split("#", 1)[0]
        if "=" in code and code.count(opening) > code.count(closing):
            found = number
    return found


def _last_line(lines: list[str]) -> int | None:
    for number in range(len(lines), 0, -1):
        if lines[number - 1].split("#", 1)[0].strip():
            return number
    return None


def _line_at_end(problem: str, lines: list[str]) -> int | None:
    """tomllib says "at end of document" for some problems: find the line meant."""
    if problem.startswith("Cannot overwrite"):
        return _duplicate_line(lines)
    if problem.startswith("Unterminated string"):
        return _unclosed_quote_line(lines)
    if problem.startswith("Unclosed array"):
        return _unclosed_line(lines, "[", "]")
    if problem.startswith("Unclosed inline table"):
        return _unclosed_line(lines, "{", "}")
    return _last_line(lines)


_TWICE = (
    "this key or section is written twice (or a key and a [section] share a name)",
    "keep only one of them",
)
_BACKSLASH = (
    "a backslash (\\) in text in double quotes",
    "write two backslashes for one, or put the text in single quotes ('C:\\data')",
)
# tomllib's messages (by how they start) → (what is wrong, the fix), in plain words.
_TOML_PROBLEMS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("Cannot declare", _TWICE),
    ("Cannot overwrite", _TWICE),
    ("Cannot redefine", _TWICE),
    ("Cannot mutate", _TWICE),
    ("Duplicate inline table key", _TWICE),
    ("Unterminated string", ("a text in quotes is not closed", 'end it with a double quote (")')),
    ("Unescaped '\\'", _BACKSLASH),
    ("Invalid hex value", _BACKSLASH),
    ("Escaped character", _BACKSLASH),
    ("Found invalid character", _BACKSLASH),
    (
        "Unclosed array",
        ("a list is not closed", 'separate the items with commas (",") and end it with "]"'),
    ),
    ("Unclosed inline table", ("a { … } table is not closed", 'end it with "}"')),
    ("Expected ']]'", ("a [[section]] line is not closed", 'end it with "]]"')),
    ("Expected ']'", ("a [section] line is not closed", 'end it with "]"')),
    ("Expected '=' after a key", ("a line without a key and a value", "write key = value")),
    (
        "Invalid initial character for a key",
        (
            "this line does not start with a key",
            'keys are letters, digits, "_" and "-"; text goes after "=", in double quotes',
        ),
    ),
    (
        "Invalid statement",
        (
            "this line is neither key = value nor a [section]",
            "compare it with config.example.toml",
        ),
    ),
    ("Invalid date or datetime", ("this is not a real date", "write a date as YYYY-MM-DD")),
    (
        "Illegal character",
        (
            "this line has a character TOML does not allow there",
            "retype the line; text goes in double quotes",
        ),
    ),
    (
        "Invalid value",
        (
            "this value is not understood",
            'write text in double quotes (name = "第一小组"), numbers and true/false as they are',
        ),
    ),
    (
        "Expected newline or end of document",
        (
            "something follows the value on this line",
            "write one key = value per line; put text in double quotes",
        ),
    ),
)


def _toml_hint(problem: str, source: str) -> tuple[str, str]:
    """(what is wrong, the fix) for a tomllib message and the line it points at."""
    value = source.split("=", 1)[1].strip() if "=" in source else ""
    unclosed = source.split("#", 1)[0].count('"') % 2 == 1
    if problem.startswith("Illegal character") and unclosed:
        problem = "Unterminated string"
    if problem.startswith(("Invalid value", "Expected newline")):
        if re.match(r"^\d{1,2}:\d{2}", value):
            time_of_day = value.split()[0]
            return f"the time {time_of_day} is not in quotes", (
                f'write times in double quotes, e.g. "{time_of_day}"'
            )
        if re.match(r"^\d{4}-\d{1,2}-\d{1,2}", value):
            return f"{value.split()[0]} is not a real date", "write a date as YYYY-MM-DD"
    for start, hint in _TOML_PROBLEMS:
        if problem.startswith(start):
            return hint
    return "this line is not valid TOML", (
        "compare it with config.example.toml: text in double quotes, numbers and true/false "
        "as they are, one key = value per line"
    )


def toml_message(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    lines = text.splitlines()
    raw = str(exc)
    match = _AT.search(raw)
    problem = _AT.sub("", raw)
    number: int | None = int(match.group(1)) if match and match.group(1) else None
    if number is None or problem.startswith(("Unclosed array", "Unclosed inline table")):
        # (tomllib points at where it noticed an unclosed list: often the next line)
        number = _line_at_end(problem, lines) or number
    source = lines[number - 1].strip() if number and 1 <= number <= len(lines) else ""
    what, fix = _toml_hint(problem, source)
    wide = sorted({ch for ch in source if ch in _FULL_WIDTH})
    if wide:
        fix = (
            f"this line has full-width punctuation ({' '.join(wide)}): TOML needs the ASCII "
            f'characters = , : " [ ] — retype them with the input method in English mode; {fix}'
        )
    where = f"line {number}" if number else "end of the file"
    message = f"{path}: not valid TOML at {where}: {what} → {fix}"
    if source:
        message += f"\n  line {number}: {source}"
    return message
