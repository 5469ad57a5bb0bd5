"""`mcpdeploy sandbox pause-delivery` / `resume-delivery`: stall the sandbox queue's consumer and let it catch up,
as `wrangler queues pause-delivery` does on Cloudflare (the queue's `delivery_paused` setting, through the same
API), so `status` can be seen reporting a stalled usage pipeline."""

from __future__ import annotations

from mcpdeploy.cli.context import CommandContext, command
from mcpdeploy.cli.sandbox import sandbox_app


@command(sandbox_app, "pause-delivery", shared=("project_dir", "env"))
def pause_delivery(ctx: CommandContext) -> None:
    """Stop delivering the usage queue's messages to its consumer: they wait in the backlog."""
    _set_paused(ctx, True)


@command(sandbox_app, "resume-delivery", shared=("project_dir", "env"))
def resume_delivery(ctx: CommandContext) -> None:
    """Deliver again: the backlog is written to usage_logs."""
    _set_paused(ctx, False)


def _set_paused(ctx: CommandContext, paused: bool) -> None:
    from mcpdeploy.errors import UsageError
    from mcpdeploy.providers.cloudflare import CloudflareClient

    ctx.sandbox = True  # these commands exist only for the sandbox
    with ctx.services() as (settings, options):
        cloudflare = settings.cloudflare
        if cloudflare.api_token is None or not cloudflare.account_id:
            raise UsageError("the sandbox settings are incomplete (token, account)")
        with CloudflareClient(cloudflare.api_base_url, cloudflare.api_token.get_secret_value(),
                              cloudflare.account_id, options) as client:
            queue = client.find_queue(cloudflare.queue)
            if queue is None:
                raise UsageError(f"the sandbox has no queue {cloudflare.queue}",
                                 hint="Run `mcpdeploy provision --sandbox --yes` first.")
            client.send("PATCH", f"accounts/{cloudflare.account_id}/queues/{queue.queue_id}",
                        json_body={"settings": {"delivery_paused": paused}})
    ctx.say(f"Delivery of {cloudflare.queue} {'paused' if paused else 'resumed'} in the sandbox.")
