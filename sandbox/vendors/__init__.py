"""The vendor side of the sandbox: one package per vendor, each holding its HTTP API, its state and its
error shapes. Vendors read and write the world's models (site, traffic, email); the world never imports
a vendor's API. Package ``__init__`` files stay empty so the world can import a vendor's state without
loading its web layer."""
