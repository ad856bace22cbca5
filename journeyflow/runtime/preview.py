"""``journeyflow preview``: a message as one customer would get it.

The subject and body are rendered by the same sandbox as a real delivery, from
the journey's attribute defaults overridden by ``--customer`` and the
``--event`` data, so a marketer sees the text before a single mail goes out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from journeyflow.cliutil import load_or_exit
from journeyflow.errors import did_you_mean
from journeyflow.runtime.executor import template_context
from journeyflow.runtime.message_texts import MessageTexts, RenderFailure
from journeyflow.runtime.program import Program
from journeyflow.runtime.timeutil import parse_date_value

__all__ = ["preview", "preview_texts"]

PREVIEW_CUSTOMER = "preview"


def _object(text: str | None, option: str) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.UsageError(f"{option} is not JSON: {exc.msg} (column {exc.colno})") from exc
    if not isinstance(value, dict):
        raise click.UsageError(f"{option} must be a JSON object, e.g. "
                               '{"first_name": "Ana"}')
    return value


def preview_texts(program: Program, message: str, customer: dict[str, Any],
                  event: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of ``message`` for a customer with these attributes (unknown
    ones are ignored), or :class:`RenderFailure`."""
    cid = str(customer.get("id", PREVIEW_CUSTOMER))
    c = program.layout.new(cid, program.start, 0.0)
    attributes = {}
    for name, value in customer.items():
        if name in program.date_attributes and isinstance(value, str):
            value = parse_date_value(value, program.model.timezone)
        attributes[name] = value
    program.layout.set_attributes(c, attributes)
    texts = MessageTexts(program.model, program.model.messages[message])
    return texts.render(template_context(program, c, event))


@click.command()
@click.argument("journey", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("message")
@click.option("--customer", "customer_json", metavar="JSON",
              help='Customer attributes, e.g. \'{"first_name": "Ana"}\' (else the defaults).')
@click.option("--event", "event_json", metavar="JSON",
              help='The data of the event that sends it, e.g. \'{"amount": 80}\'.')
def preview(journey: Path, message: str, customer_json: str | None,
            event_json: str | None) -> None:
    """Print MESSAGE of JOURNEY rendered as a customer would get it."""
    loaded = load_or_exit(journey)
    model = loaded.model
    if message not in model.messages:
        hint = did_you_mean(message, model.messages) or (
            "messages: " + ", ".join(model.messages) if model.messages else "it declares none")
        raise click.UsageError(f"{journey} has no message '{message}'; {hint}")
    customer = _object(customer_json, "--customer")
    event = _object(event_json, "--event")
    unknown = sorted(set(customer) - set(model.attributes) - {"id"})
    if unknown:
        click.echo(f"note: the journey has no attribute {', '.join(unknown)}; ignored",
                   err=True)
    try:
        subject, body = preview_texts(Program(model), message, customer, event)
    except RenderFailure as failure:
        click.echo(f"{journey.parent / failure.source}: error: message '{message}' does not "
                   f"render: {failure.reason}", err=True)
        sys.exit(1)
    msg = model.messages[message]
    kind = ", transactional" if msg.transactional else ""
    click.echo(f"message: {message} (via {msg.channel}{kind})")
    click.echo(f"subject: {subject}")
    click.echo("")
    click.echo(body)
