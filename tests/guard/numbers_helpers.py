"""Valid identification numbers computed for the tests, so that no real person's number is written down."""

from __future__ import annotations


def my_number(first11: str) -> str:
    """A 12-digit 個人番号 with the check digit of the official algorithm (weights 2–7, 2–6, modulus 11)."""
    total = sum(int(d) * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(reversed(first11), start=1))
    remainder = total % 11
    return first11 + str(0 if remainder <= 1 else 11 - remainder)


def luhn(prefix: str) -> str:
    """``prefix`` completed with the digit that makes it pass the Luhn check."""
    for last in "0123456789":
        digits = prefix + last
        total = 0
        for i, ch in enumerate(reversed(digits)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def corporate_number(base12: str) -> str:
    """A 13-digit 法人番号: check digit first, 9 − (Σ Pn·Qn mod 9) with Qn = 1, 2, 1, 2 … from the right."""
    total = sum(int(d) * (1 if n % 2 else 2) for n, d in enumerate(reversed(base12), start=1))
    return str(9 - total % 9) + base12


def change_last_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def spaced(number: str, sizes: tuple[int, ...], sep: str = " ") -> str:
    out, at = [], 0
    for size in sizes:
        out.append(number[at:at + size])
        at += size
    return sep.join(out)


def full_width(text: str) -> str:
    ascii_chars = "0123456789-@.ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in ascii_chars})
