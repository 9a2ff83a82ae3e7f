"""Built-in transforms on plain values: text, e-mail, phone, INN, numbers, booleans, lists."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from b24kit.sync import normalise
from b24kit.sync.values import is_empty

from .base import Transform, TransformContext


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _text_of(value: Any, separator: str) -> str:
    if isinstance(value, list | tuple):
        return separator.join(str(v).strip() for v in value if not is_empty(v))
    return str(value)


class TextOptions(_Options):
    case: Literal["keep", "lower", "upper", "title"] = "keep"
    separator: str = Field(" ", description="Joins several source values.")
    max_length: int | None = Field(None, ge=1)


class Text(Transform):
    """Trimmed text with inner whitespace collapsed; several source values are joined."""

    name: ClassVar[str] = "text"
    Options: ClassVar[type[BaseModel]] = TextOptions
    reversible: ClassVar[bool] = True

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        opts = self.options
        assert isinstance(opts, TextOptions)
        text = " ".join(_text_of(value, opts.separator).split())
        text = {"keep": text, "lower": text.lower(), "upper": text.upper(), "title": text.title()}[opts.case]
        return text[: opts.max_length] if opts.max_length else text

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        return None if value is None else str(value)


class RegionOptions(_Options):
    region: str = Field("RU", min_length=2, max_length=2, description="Region for numbers without +code.")


class Email(Transform):
    """A valid e-mail address, lower-cased; anything else fails the record."""

    name: ClassVar[str] = "email"
    reversible: ClassVar[bool] = True

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        result = normalise.email(value)
        if result is None:
            raise ValueError(f"{str(value).strip()!r} is not an e-mail address")
        return result

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        return value


class Phone(Transform):
    """A phone number in E.164 (+79161234567); a number that cannot be parsed fails the record."""

    name: ClassVar[str] = "phone"
    Options: ClassVar[type[BaseModel]] = RegionOptions
    reversible: ClassVar[bool] = True

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        assert isinstance(self.options, RegionOptions)
        result = normalise.phone(value, self.options.region)
        if result is None:
            raise ValueError(f"{str(value).strip()!r} is not a phone number")
        return result

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        return value


class Inn(Transform):
    """A Russian INN (10 or 12 digits) with valid control digits."""

    name: ClassVar[str] = "inn"
    reversible: ClassVar[bool] = True

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        result = normalise.inn(value)
        if result is None:
            raise ValueError(f"{str(value).strip()!r} is not a valid INN")
        return result

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        return value


class NumberOptions(_Options):
    decimals: int | None = Field(None, ge=0, le=10, description="Round to this many places.")


def parse_number(value: Any) -> Decimal:
    """A number from a number or text such as ``"1 234,50"``, ``"1,234.50"`` or ``"12%"``."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").rstrip("%")
    if "," in text and "." in text:
        text = (
            text.replace(",", "")
            if text.rfind(".") > text.rfind(",")
            else text.replace(".", "").replace(",", ".")
        )
    elif "," in text:
        text = text.replace(",", ".")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{str(value).strip()!r} is not a number") from None
    if not result.is_finite():
        raise ValueError(f"{str(value).strip()!r} is not a number")
    return result


def _plain(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


class Number(Transform):
    """A number from typed cells or text with spaces and decimal commas; written as int or float."""

    name: ClassVar[str] = "number"
    Options: ClassVar[type[BaseModel]] = NumberOptions
    reversible: ClassVar[bool] = True

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        assert isinstance(self.options, NumberOptions)
        number = parse_number(value)
        if self.options.decimals is not None:
            number = round(number, self.options.decimals)
        return _plain(number)

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        return None if is_empty(value) else _plain(parse_number(value))


class Integer(Transform):
    """A whole number; a fraction fails the record."""

    name: ClassVar[str] = "integer"
    reversible: ClassVar[bool] = True

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        number = parse_number(value)
        if number != number.to_integral_value():
            raise ValueError(f"{str(value).strip()!r} is not a whole number")
        return int(number)

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        return None if is_empty(value) else int(parse_number(value))


_TRUE = {"1", "y", "yes", "true", "t", "on", "+", "x", "да", "д", "истина", "✓", "✔"}
_FALSE = {"0", "n", "no", "false", "f", "off", "-", "нет", "н", "ложь", ""}


class BooleanOptions(_Options):
    true: Any = Field("Y", description="Written for a true value (Bitrix flags are Y/N).")
    false: Any = Field("N", description="Written for a false value.")


class Boolean(Transform):
    """Yes/no values (true, 1, Y, да, x ...) written as ``true``/``false`` options (default Y/N)."""

    name: ClassVar[str] = "boolean"
    Options: ClassVar[type[BaseModel]] = BooleanOptions
    reversible: ClassVar[bool] = True

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        assert isinstance(self.options, BooleanOptions)
        return self.options.true if _truth(value) else self.options.false

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        assert isinstance(self.options, BooleanOptions)
        if value == self.options.true:
            return True
        if value == self.options.false:
            return False
        return _truth(value)


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return value != 0
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{str(value).strip()!r} is not yes or no")


class SplitOptions(_Options):
    separators: str = Field(",;\n", description="Any of these characters splits the text.")


class Split(Transform):
    """Text split into a list of trimmed, non-empty items (lists pass through); joins back with ', '."""

    name: ClassVar[str] = "split"
    Options: ClassVar[type[BaseModel]] = SplitOptions
    reversible: ClassVar[bool] = True

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        assert isinstance(self.options, SplitOptions)
        return split_values(value, self.options.separators)

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else value


def split_values(value: Any, separators: str = ",;\n") -> list[Any]:
    """Every non-empty item of a value: lists are flattened, strings split at any separator."""
    if is_empty(value):
        return []
    if isinstance(value, list | tuple):
        items: list[Any] = []
        for item in value:
            items.extend(split_values(item, separators))
        return items
    if not isinstance(value, str):
        return [value]
    text = value
    for sep in separators[1:]:
        text = text.replace(sep, separators[0])
    return [part.strip() for part in text.split(separators[0]) if part.strip()]


def values_of(value: Any) -> Sequence[Any]:
    """A value as a list (several source fields arrive as a tuple)."""
    return list(value) if isinstance(value, list | tuple) else [value]
