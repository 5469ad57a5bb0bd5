"""`mcpdeploy sandbox pause-delivery` / `resume-delivery`: stall the sandbox queue's consumer and let it catch up,
as `wrangler queues pause-delivery` does on Cloudflare (the queue's `delivery_paused` setting, through the same
API), so `status` can be seen reporting a stalled usage pipeline."""

from __future__ import annotations

from pathlib import Path

from mcpdeploy.cli.common import ENV, PROJECT_DIR, command_settings, http_options
from mcpdeploy.cli.output import make_console
from mcpdeploy.cli.sandbox import sandbox_app


@sandbox_app.command("pause-delivery")
def pause_delivery(project_dir: Path = PROJECT_DIR, env: str | None = ENV) -> None:
    """Stop delivering the usage queue's messages to its consumer: they wait in the backlog."""
    _set_paused(project_dir, env, True)


@sandbox_app.command("resume-delivery")
def resume_delivery(project_dir: Path = PROJECT_DIR, env: str | None = ENV) -> None:
    """Deliver again: the backlog is written to usage_logs."""
    _set_paused(project_dir, env, False)


def _set_paused(project_dir: Path, env: str | None, paused: bool) -> None:
    from mcpdeploy.errors import UsageError
    from mcpdeploy.providers.cloudflare import CloudflareClient

    with command_settings(project_dir, env, sandbox=True) as settings, http_options(None, settings) as options:
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
    make_console().print(f"Delivery of {cloudflare.queue} {'paused' if paused else 'resumed'} in the sandbox.",
                         markup=False)
