"""The `--json` documents as models, one module per command family: the published JSON Schemas (docs/json/) are
generated from them and each document a command writes is checked against its model.

Kept free of imports on purpose: the CLI imports every module of mcpdeploy.cli when it starts, this package's
`__init__` included, and pydantic must not be paid for by `--version`."""
