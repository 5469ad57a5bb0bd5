"""`status` as a read-only pipeline: read each source (Cloudflare queue and analytics, then Xano) into one
health model, then judge it. A source that cannot be read is recorded as such and the others are still read."""

from __future__ import annotations

import time
from datetime import datetime

from mcpdeploy.errors import ServiceError
from mcpdeploy.files.wrangler import read_worker_name
from mcpdeploy.monitor.cloudflare_reads import QueueReader, read_analytics, read_queue
from mcpdeploy.monitor.model import Health, QueueHealth, SessionsHealth, Source, UsageHealth, WindowInfo, WorkerHealth
from mcpdeploy.monitor.verdict import judge
from mcpdeploy.monitor.window import Window
from mcpdeploy.monitor.xano_reads import DEFAULT_MAX_ROWS, TableMissing, read_xano
from mcpdeploy.project.settings import Settings
from mcpdeploy.providers.cloudflare_graphql import AnalyticsClient
from mcpdeploy.providers.http import HttpOptions
from mcpdeploy.providers.xano import XanoClient


def collect(settings: Settings, options: HttpOptions, window: Window, *, now: datetime,
            max_rows: int = DEFAULT_MAX_ROWS, env_flag: str = "") -> Health:
    started = time.monotonic()
    cloudflare = settings.cloudflare
    script = cloudflare.worker_name or read_worker_name(settings.project_dir, settings.env_name) or ""
    worker = WorkerHealth(script=script)
    queue = QueueHealth(name=cloudflare.queue)
    sessions, usage = SessionsHealth(), UsageHealth()
    sources = [Source("cloudflare_queue"), Source("cloudflare_analytics"), Source("xano")]
    queue_source, analytics_source, xano_source = sources

    if cloudflare.api_token is None or not cloudflare.account_id:
        for source in (queue_source, analytics_source):
            source.state = "not_configured"
            source.message = "CLOUDFLARE_API_TOKEN or CLOUDFLARE_ACCOUNT_ID is not set"
    else:
        token = cloudflare.api_token.get_secret_value()
        reader = QueueReader(cloudflare.api_base_url, token, cloudflare.account_id, options)
        with _counted(options, queue_source), reader:
            queue = read_queue(reader, cloudflare.queue, script, now)
        if not script:
            analytics_source.state = "not_configured"
            analytics_source.message = "no Worker name (wrangler.toml, [cloudflare] worker_name)"
        else:
            analytics = AnalyticsClient(cloudflare.api_base_url, token, cloudflare.account_id, options)
            with _counted(options, analytics_source), analytics:
                read_analytics(analytics, worker, queue, window, now, analytics_source)

    xano = settings.xano
    if xano.instance_url is None or xano.metadata_token is None or xano.workspace_id is None:
        xano_source.state = "not_configured"
        xano_source.message = "XANO_INSTANCE_URL, XANO_WORKSPACE_ID or XANO_METADATA_TOKEN is not set"
    else:
        client = XanoClient(xano.instance_url, xano.metadata_token.get_secret_value(), int(xano.workspace_id),
                            branch=xano.branch, options=options)
        with _counted(options, xano_source), client:
            try:
                sessions, usage = read_xano(client, window, now, max_rows)
            except TableMissing as exc:
                xano_source.state = "unavailable"
                xano_source.message = str(exc)
                xano_source.hint = "Run `mcpdeploy provision` to create the tables."

    health = Health(window=WindowInfo(window.label, window.start.isoformat(), window.end.isoformat(),
                                      int(window.interval.total_seconds())),
                    worker=worker, queue=queue, sessions=sessions, usage=usage, sources=sources)
    judge(health, env_flag)
    health.seconds = time.monotonic() - started
    return health


class _counted:
    """Counts the calls a source made, and turns a failure to read it into its state instead of an exception."""

    def __init__(self, options: HttpOptions, source: Source) -> None:
        self._options = options
        self._source = source

    def __enter__(self) -> None:
        self._before = self._options.counts["requests"]

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> bool:
        self._source.calls += self._options.counts["requests"] - self._before
        if isinstance(error, ServiceError):
            self._source.state = "unavailable"
            self._source.message = error.message
            self._source.hint = error.hint
            return True
        return False
