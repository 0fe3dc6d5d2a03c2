"""Email service providers behind one interface (adapters/esp/base.py)."""
