"""mcpdeploy: provision, smoke-test and roll back an MCP server on Cloudflare Workers with a Xano backend."""

__version__ = "0.1.0"
