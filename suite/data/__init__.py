"""Files shipped inside the package: the example mcp.json (the demo client) and the WordPress companion
plugin. Read them with importlib.resources; the repository's ./mcp.json and ./wordpress/ link here."""
