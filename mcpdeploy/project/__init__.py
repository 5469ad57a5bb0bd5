"""The project on disk: its settings (flags, environment, mcpdeploy.toml), the credentials key and encrypted
SERVICE_CREDENTIALS, and the scaffold `mcpdeploy init` writes."""
