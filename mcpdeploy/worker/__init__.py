"""The Worker's own toolchain: Node and wrangler, `mcpdeploy dev` and `mcpdeploy deploy`."""
