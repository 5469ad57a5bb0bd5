"""Local emulators of the Xano Metadata API (plus the endpoints it provisions), the Cloudflare API and an MCP
endpoint: one implementation, mounted in-process for tests (`Sandbox.transport()`) and served on loopback
(`SandboxServer`)."""
