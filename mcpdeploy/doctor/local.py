"""The project's own files: the schemas, the credentials key and `.dev.vars`."""

from __future__ import annotations

from mcpdeploy.doctor.check import Check, Target, from_error, ok, problem, warning
from mcpdeploy.errors import InputFileError, McpdeployError


def schema_check(target: Target) -> Check:
    from mcpdeploy.spec.loader import load_spec, resolve_schema_dir

    try:
        schema_dir = resolve_schema_dir(target.settings)
        spec = load_spec(schema_dir)
    except McpdeployError as exc:
        return from_error("schemas", exc)
    return ok("schemas", f"{schema_dir}: {len(spec.tables)} tables, {len(spec.endpoints)} endpoints")


def key_check(target: Target) -> tuple[Check, str | None]:
    """The credentials key's check, and the key itself for the `.dev.vars` check (never shown)."""
    from mcpdeploy.project.secrets import key_id, key_path, load_key

    try:
        key = load_key(target.project_dir, target.env)
    except InputFileError as exc:
        # A key file the OS refuses to read has no hint of its own; its fix is the same as for one too open.
        fix = exc.hint or f"Make it yours and private: `chmod 600 {exc.path}` (and check who owns it)."
        return problem("credentials key", exc.message, fix, exc.exit_code), None
    except McpdeployError as exc:
        return from_error("credentials key", exc), None
    if key is None:
        where = key_path(target.project_dir, target.env)
        return warning("credentials key", f"no credentials key for this environment ({where} is absent)",
                       target.command("secrets keygen").replace(" --sandbox", "")), None
    return ok("credentials key", f"key {key_id(key)}"), key


def dev_vars_check(target: Target, key: str | None) -> Check | None:
    """Whether `.dev.vars`' SERVICE_CREDENTIALS opens with the key; None without a `.dev.vars`."""
    from mcpdeploy.files.devvars import decode_dev_vars, dev_vars_path, parse_dev_vars
    from mcpdeploy.files.edits import read_current
    from mcpdeploy.project.secrets import SERVICE_CREDENTIALS_VAR, CredentialsDecryptError, decrypt_service_credentials

    try:
        path = dev_vars_path(target.project_dir, target.env)
        raw, _ = read_current(path)
        if raw is None:
            return None
        found = [v.value for v in parse_dev_vars(decode_dev_vars(path, raw), path) if v.key == SERVICE_CREDENTIALS_VAR]
        if not found:
            return warning(".dev.vars", f"{path.name} holds no {SERVICE_CREDENTIALS_VAR}",
                           target.command("provision") + " writes it")
        services = decrypt_service_credentials(found[-1], key)
    except CredentialsDecryptError as exc:
        return from_error(".dev.vars", exc)
    except InputFileError as exc:
        return from_error(".dev.vars", exc)
    except McpdeployError as exc:
        return warning(".dev.vars", exc.message, exc.hint)
    return ok(".dev.vars", f"{path.name}: {SERVICE_CREDENTIALS_VAR} opens ({len(services)} service(s))")
