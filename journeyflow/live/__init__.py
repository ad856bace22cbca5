"""The live runtime: durable stores, the outbox and its delivery loop, ``run --store``,
the HTTP service and live reports, all over :class:`journeyflow.Engine`."""
