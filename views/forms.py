"""Forms as pages give them back: what a person typed, what is wrong with it, and a mutation's
``userErrors`` placed on the fields they are about.

A refused mutation names the input at fault in each user error (``field``). ``place`` maps each
error onto the form field that input came from, given the page's mapping from input names to
form names: the first message for a field goes next to it, and every other error is left for the
form's summary. The incident page, the declare form and the settings forms all place errors this
way; ``Form`` is the incident page's form as it comes back to the person.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from starlette.datastructures import FormData

UserErrors = Iterable[Mapping[str, Any]]


def place(
    user_errors: UserErrors, fields: Mapping[str, str] | Callable[[Mapping[str, Any]], str | None]
) -> tuple[dict[str, str], list[Mapping[str, Any]]]:
    """The errors' messages by form field (the first for each), and the errors placed nowhere.

    ``fields`` maps an error's input name to the form field it belongs to, or is a function
    from the error to that form field (None: nowhere)."""
    where = fields if callable(fields) else lambda error: fields.get(error.get("field") or "")
    placed: dict[str, str] = {}
    rest: list[Mapping[str, Any]] = []
    for error in user_errors:
        name = where(error)
        if name is not None and name not in placed:
            placed[name] = error["message"]
        else:
            rest.append(error)
    return placed, rest


@dataclasses.dataclass
class Form:
    """A form as it comes back to the person: what they typed and what is wrong with it."""

    values: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    problem: str | None = None

    @classmethod
    def of(cls, form: FormData) -> Form:
        return cls({key: [str(v) for v in form.getlist(key)] for key in form})

    def value(self, name: str, default: str = "") -> str:
        return next(iter(self.values.get(name, [])), default)

    def chosen(self, name: str) -> list[str]:
        return self.values.get(name, [])

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.problem)

    def refused(self, user_errors: UserErrors, fields: Mapping[str, str]) -> None:
        """Put a mutation's user errors on the form: by field where ``fields`` (input name to
        form name) places them, the last of the rest as the form's problem."""
        placed, rest = place(user_errors, fields)
        for name, text in placed.items():
            self.errors.setdefault(name, text)
        for error in rest:
            self.problem = error["message"]
