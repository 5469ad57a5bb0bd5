"""Every check, in the order a project meets them: its files, the services, the clock, the tools."""

from __future__ import annotations

from pathlib import Path

from mcpdeploy.doctor.check import Check, Target, from_error, ok, warning
from mcpdeploy.doctor.clock import DateRecorder, clock_check
from mcpdeploy.errors import McpdeployError
from mcpdeploy.providers.http import HttpOptions


def local_checks(target: Target) -> list[Check]:
    from mcpdeploy.doctor.local import dev_vars_check, key_check, schema_check
    from mcpdeploy.doctor.wrangler_config import bindings_check, config_file_check

    key, key_value = key_check(target)
    dev_vars = dev_vars_check(target, key_value)
    return [schema_check(target), key, *([dev_vars] if dev_vars else []), config_file_check(target),
            bindings_check(target)]


def remote_checks(target: Target, options: HttpOptions) -> list[Check]:
    """The services' checks, then (when nothing so far is wrong) a plan: what provision would still change; then
    the clock, measured on every answer they gave."""
    from mcpdeploy.doctor.cloudflare import cloudflare_checks
    from mcpdeploy.doctor.xano import xano_checks

    recorder = DateRecorder(options.network_transport())
    options.transport = recorder
    checks = xano_checks(target, options) + cloudflare_checks(target, options)
    if not any(c.status == "problem" for c in checks):
        checks += _provisioned_checks(target, options)
    if recorder.answers or any(c.status == "ok" for c in checks):
        checks.append(clock_check(recorder.answers))
    return checks


def _provisioned_checks(target: Target, options: HttpOptions) -> list[Check]:
    from mcpdeploy.provision.pipeline import open_pipeline

    try:
        pipeline = open_pipeline(target.settings, options)
        try:
            plan = pipeline.plan()
        finally:
            pipeline.close()
    except McpdeployError as exc:
        return [from_error("provisioned", exc)]
    notes = [warning("provisioned", note) for note in plan.notes]
    if not plan.has_changes:
        return [ok("provisioned", "everything matches the schemas and settings"), *notes]
    s = plan.summary()
    return [warning("provisioned", f"{s['create']} to create, {s['update']} to update, {s['delete']} to delete",
                    f"{target.command('plan')} shows them; {target.command('provision')} applies them"), *notes]


def tool_checks(project_dir: Path) -> list[Check]:
    """Node and wrangler: needed by deploy, `--sandbox` or not (the sandbox deploys with real wrangler too)."""
    from mcpdeploy.doctor.tools import node_check, wrangler_check

    node, version = node_check()
    return [node, wrangler_check(project_dir, version)]
