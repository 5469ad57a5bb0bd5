"""`mcpdeploy doctor`'s checks: plain functions that read (files, the services, the tools on this machine) and
return `Check` values, each with its fix. Nothing here writes to a service or to the project."""
