"""Typical edits of the examples, each a list of (text, replacement) applied to a copy.

Every text must occur in the example, so an edit that no longer applies fails loudly
instead of diffing a journey against itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass(frozen=True)
class Edit:
    name: str
    example: str
    replacements: tuple[tuple[str, str], ...]

    def apply(self, text: str) -> str:
        for old, new in self.replacements:
            assert old in text, f"{self.name}: {old!r} is not in {self.example}"
            text = text.replace(old, new)
        return text

    def source(self) -> str:
        return (EXAMPLES / self.example).read_text("utf-8")


EDITS = (
    Edit("mail-body-copy-edit", "lifecycle.journey", (
        ("Good to have you here. Your welcome gift is waiting in your account.",
         "Good to have you with us. Your welcome gift is waiting in your account."),)),
    Edit("changed-delay", "lifecycle.journey", (
        ("  after 21d -> winback", "  after 28d -> winback"),)),
    Edit("changed-delayed-statement", "abandoned_cart.journey", (
        ("after 4h unless purchased", "after 6h unless purchased"),)),
    Edit("new-stage", "abandoned_cart.journey", (
        ("  after 4d -> browsing\n}",
         "  after 4d -> browsing\n  on cart_abandoned where event.items >= 5 -> bulk_buyer\n}"),
        ("stage opted_out final",
         "# Bulk buyers get a call from sales instead of reminder mails.\n"
         "stage bulk_buyer {\n  on enter { tag \"bulk\" }\n  on purchased -> ordered\n"
         "  after 7d -> browsing\n}\n\nstage opted_out final"),)),
    Edit("renamed-stage", "abandoned_cart.journey", (
        ("opted_out", "unsubscribed_for_good"),)),
    Edit("renamed-stage-with-migrate", "abandoned_cart.journey", (
        ("opted_out", "unsubscribed_for_good"),
        ("stage unsubscribed_for_good final", "stage unsubscribed_for_good final\n\n"
         "migrate { stage opted_out -> unsubscribed_for_good }"))),
    Edit("changed-guard", "lifecycle.journey", (
        ("on cart_abandoned where event.cart_value >= 10 {",
         "on cart_abandoned where event.cart_value >= 25 {"),)),
    Edit("removed-message", "lifecycle.journey", (
        ('message referral_thanks via email { subject "Thank you for recommending us" }\n', ""),
        ("    send referral_thanks\n", ""),
        ("  expect sent referral_thanks\n", ""))),
    Edit("reordered-first-match-rule", "lifecycle.journey", (
        ("  on purchased where count(purchased) == 1 -> first_purchase\n"
         "  on purchased -> retention\n",
         "  on purchased -> retention\n"
         "  on purchased where count(purchased) == 1 -> first_purchase\n"),)),
    Edit("comments-and-layout-only", "abandoned_cart.journey", (
        ("# Browsing: no open cart. Carts under 10 € are not worth a mail.\n", ""),
        ("  # A newer cart replaces the old one and restarts the sequence.\n",
         "  # Newer carts restart the sequence.\n\n"),
        ("  on enter {\n    send thank_you\n    set cart_value = 0\n  }",
         "  on enter { send thank_you; set cart_value = 0 }"),
        ("event unsubscribed {}", "event   unsubscribed   { }"),
        ("after 1d4h unless purchased", "after 28h unless purchased"),)),
    Edit("reordered-declarations", "abandoned_cart.journey", (
        ("value sum(purchased.amount)\n", ""),
        ("stage opted_out final", "stage opted_out final\n\nvalue sum(purchased.amount)"),)),
)
